package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/bastion-pam/terraform-provider-bastion/internal/lab"
)

// MIM requests: a request the MIM Service on a node accepted is bound to the
// node's partition name and service name; only a service with both may finish
// its workflow. These commands show a rebuilt node taking over a lost one's.

type mimRequest struct {
	Host string `json:"host"`
	ID   string `json:"id"`
}

type completed struct {
	IDs []string `json:"ids"`
}

func requestCmd() command {
	return command{
		name:    "request",
		args:    "[-dir DIR] -host H -id ID",
		summary: "record a pending MIM request accepted by the MIM Service on a node",
		detail: `The request is bound to the node's servicePartitionName and serviceName, as
the MIM Service binds it: "bastion-lab complete" on a node with both names
finishes it, even after the node that accepted it is lost.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host := fs.String("host", "", "FQDN of the MIM Service node that accepted the request")
			id := fs.String("id", "", "the request's ID")
			return func(ctx context.Context, out io.Writer) error {
				if err := required("host", *host); err != nil {
					return err
				}
				if err := required("id", *id); err != nil {
					return err
				}
				return post(ctx, *dir, "/request", mimRequest{Host: *host, ID: *id}, out, "request %s pending on %s\n", *id, *host)
			}
		},
	}
}

func completeCmd() command {
	return command{
		name:    "complete",
		args:    "[-dir DIR] -host H",
		summary: "let the MIM Service on a node finish the pending requests it may finish",
		detail: `Finishes every pending request whose partition name and service name are the
node's, as the running MIM Service would, and lists them. A stopped service
finishes nothing.`,
		setup: func(fs *flag.FlagSet) func(context.Context, io.Writer) error {
			dir := dirFlag(fs)
			host := fs.String("host", "", "FQDN of the MIM Service node")
			return func(ctx context.Context, out io.Writer) error {
				if err := required("host", *host); err != nil {
					return err
				}
				var c completed
				if err := control(ctx, *dir, http.MethodPost, "/complete", hostRequest{Host: *host}, &c); err != nil {
					return err
				}
				if len(c.IDs) == 0 {
					_, err := fmt.Fprintf(out, "%s finished no request\n", *host)
					return err
				}
				_, err := fmt.Fprintf(out, "%s finished: %s\n", *host, strings.Join(c.IDs, ", "))
				return err
			}
		},
	}
}

func requestHandlers(mux *http.ServeMux, l *lab.Lab, auth func(http.HandlerFunc) http.HandlerFunc) {
	mux.HandleFunc("POST /request", auth(handle(func(in mimRequest) error {
		if !isHost(l, in.Host) {
			return unknownHost(l, in.Host)
		}
		return l.Env.AddRequest(in.Host, in.ID)
	})))
	mux.HandleFunc("POST /complete", auth(func(w http.ResponseWriter, r *http.Request) {
		var in hostRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ids, err := l.Env.CompleteRequests(in.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(completed{IDs: ids})
	}))
}
