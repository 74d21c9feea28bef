# Aloha build, test and benchmark entry points. See README.md.

GO       ?= go
PKG      := github.com/alohasched/aloha
VERSION  ?= 0.1.0
COMMIT   := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS  := -X $(PKG)/internal/buildinfo.Version=$(VERSION) -X $(PKG)/internal/buildinfo.Commit=$(COMMIT)
# Benchmarks run long enough to be stable on a shared 2-core machine.
BENCHTIME ?= 2s

.PHONY: all build test bench lint clean

all: build

build: bin/alohad bin/alohactl

bin/alohad bin/alohactl: FORCE
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ ./cmd/$(notdir $@)

FORCE:

# The whole suite under the race detector, fuzz seed corpora included.
test:
	$(GO) test -race -count=1 -timeout 20m ./...

# Benchmarks print each figure next to a baseline measured in the same run.
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -benchmem ./wire/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin dist
