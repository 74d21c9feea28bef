package wire

import "syscall"

func syscallECONNREFUSED() error { return syscall.ECONNREFUSED }
