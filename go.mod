module github.com/alohasched/aloha

go 1.26.0

require (
	github.com/alecthomas/kong v1.17.0
	github.com/go-zookeeper/zk v1.0.4
	github.com/vmihailenco/msgpack/v5 v5.4.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.48.0
)

require (
	github.com/fsnotify/fsnotify v1.10.1 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)
