//go:build linux

package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/testsupport/blackhole"
)

func TestDialConnectTimeout(t *testing.T) {
	addr := blackhole.Listen(t)
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
