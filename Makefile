# Aloha build, test and benchmark entry points. See README.md.

GO       ?= go
PKG      := github.com/alohasched/aloha
VERSION  ?= 0.1.0
COMMIT   := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS  := -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
# make dist writes $(DISTDIR)/aloha-$(VERSION)-dist.tar.gz, which unpacks to
# aloha-$(VERSION)/ (bin, sbin, conf, application), staged in $(DISTDIR).
DISTDIR  ?= dist
DISTNAME := aloha-$(VERSION)
DISTROOT := $(DISTDIR)/$(DISTNAME)
DISTTAR  := $(DISTDIR)/$(DISTNAME)-dist.tar.gz
# Benchmarks run long enough to be stable on a shared 2-core machine.
BENCHTIME ?= 2s

.PHONY: all build run test bench lint clean

all: build

build: bin/alohad bin/alohactl

bin/alohad bin/alohactl: FORCE
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ ./cmd/$(notdir $@)

FORCE:

# A whole cluster in one process: master (RPC 7077, REST 127.0.0.1:6066)
# and two workers with their directories under ./work. Ctrl-C stops it.
RUNFLAGS ?= --workers 2
run: bin/alohad
	bin/alohad local $(RUNFLAGS)

# The whole suite under the race detector, fuzz seed corpora included.
test:
	$(GO) test -race -count=1 -timeout 20m ./...

# Benchmarks print each figure next to a baseline measured in the same run.
# -p 1: benchmark binaries must not run side by side and skew each other.
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./wire/
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 1x -timeout 20m ./daemon/server/ ./daemon/master/
	$(GO) test -p 1 -run '^$$' -bench 'Failover|Recovery10k' -benchtime 1x -timeout 20m ./internal/e2e/
	$(GO) test -p 1 -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./tui/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin dist

# The distribution tarball: run sbin/aloha-daemon.sh from its unpacked top
# directory, as in README. Tested by internal/dist.
.PHONY: dist
dist:
	rm -rf '$(DISTROOT)' '$(DISTTAR)'
	mkdir -p '$(DISTROOT)/bin' '$(DISTROOT)/sbin' '$(DISTROOT)/conf' '$(DISTROOT)/application'
	$(GO) build -ldflags '$(LDFLAGS)' -o '$(DISTROOT)/bin/alohad' ./cmd/alohad
	$(GO) build -ldflags '$(LDFLAGS)' -o '$(DISTROOT)/bin/alohactl' ./cmd/alohactl
	cp sbin/aloha-daemon.sh '$(DISTROOT)/sbin/'
	cp conf/aloha-default.conf.template conf/aloha-env.sh.template '$(DISTROOT)/conf/'
	cp application/README.md '$(DISTROOT)/application/'
	cp LICENSE README.md '$(DISTROOT)/'
	chmod 0755 '$(DISTROOT)' '$(DISTROOT)/bin' '$(DISTROOT)/sbin' '$(DISTROOT)/conf' '$(DISTROOT)/application'
	chmod 0755 '$(DISTROOT)/bin/alohad' '$(DISTROOT)/bin/alohactl' '$(DISTROOT)/sbin/aloha-daemon.sh'
	chmod 0644 '$(DISTROOT)'/conf/* '$(DISTROOT)/application/README.md' '$(DISTROOT)/LICENSE' '$(DISTROOT)/README.md'
	tar -czf '$(DISTTAR)' -C '$(DISTDIR)' '$(DISTNAME)'
	@echo 'wrote $(DISTTAR)'
