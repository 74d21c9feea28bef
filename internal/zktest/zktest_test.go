package zktest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestServerAnswers(t *testing.T) {
	addr := Server(t)
	if !Ready(addr) {
		t.Fatalf("Server() = %s, which does not answer ruok", addr)
	}
	if again := Server(t); again != addr {
		t.Fatalf("second Server() = %s, want the same server %s", again, addr)
	}
}

func TestChrootIsDeletedAfterTheTest(t *testing.T) {
	addr := Server(t)
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var root, other string
	t.Run("inner", func(t *testing.T) {
		root, other = Chroot(t), Chroot(t)
		if root == other || !strings.HasPrefix(root, "/aloha-test/") {
			t.Fatalf("Chroot() = %s, then %s; want distinct paths under /aloha-test/", root, other)
		}
		// Enough children to need several delete requests.
		for _, p := range []string{"/aloha-test", root, root + "/a", root + "/a/b"} {
			if _, err := conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
				t.Fatal(err)
			}
		}
		for i := 0; i < 1500; i += 500 {
			var ops []any
			for j := i; j < i+500; j++ {
				ops = append(ops, &zk.CreateRequest{Path: fmt.Sprintf("%s/n-%04d", root, j), Acl: zk.WorldACL(zk.PermAll)})
			}
			if _, err := conn.Multi(ops...); err != nil {
				t.Fatal(err)
			}
		}
	})
	if ok, _, err := conn.Exists(root); err != nil || ok {
		t.Fatalf("after the test, %s exists=%v (err %v); want it deleted", root, ok, err)
	}
}
