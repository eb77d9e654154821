//go:build linux

package transport

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// blackhole listens on loopback with a backlog of 0 and never accepts, then
// fills the queue: the kernel drops further SYNs, as a powered-off host's
// network does, so a connect hangs until the client gives up.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	for i := 0; i < 4; i++ { // fill the accept queue
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	return addr
}

func TestDialConnectTimeout(t *testing.T) {
	addr := blackhole(t)
	connectTimeout = 300 * time.Millisecond
	t.Cleanup(func() { connectTimeout = DefaultConnectTimeout })
	start := time.Now()
	_, err := ConnectTo{}.DialContext(context.Background(), "tcp", addr)
	took := time.Since(start)
	if err == nil {
		t.Skip("the kernel accepted the connection: no SYN was dropped on this system")
	}
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("error %v does not match ErrUnreachable", err)
	}
	if took > 3*time.Second {
		t.Errorf("the connect took %v; the connect timeout is %v", took, connectTimeout)
	}
	if DefaultConnectTimeout > 15*time.Second {
		t.Errorf("DefaultConnectTimeout %v: a dead host must fail within 15 s", DefaultConnectTimeout)
	}
}
