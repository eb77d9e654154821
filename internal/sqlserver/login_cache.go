package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// LoginsMaxAge bounds how long CachedLogin serves one read of every login:
// a refresh asks within seconds; anything older is read again.
const LoginsMaxAge = time.Minute

// loginKey folds a name as the server compares it: SQL Server's default
// collations (SQL_Latin1_General_CP1_CI_AS, Latin1_General_CI_AS) ignore case.
func loginKey(name string) string { return strings.ToLower(name) }

// CachedLogin is Login for a plan's refresh: every caller shares one read of
// all logins and their roles (one query, one round trip, whatever the
// number of logins), until this client writes or LoginsMaxAge passes. Reads
// right after a write (Create, Update) use Login, which always asks.
func (c *Client) CachedLogin(ctx context.Context, name string) (Login, error) {
	if err := checkName("login", name); err != nil {
		return Login{}, err
	}
	all, err := c.allLogins(ctx)
	if err != nil {
		return Login{}, err
	}
	l, ok := all[loginKey(name)]
	if !ok {
		return Login{}, fmt.Errorf("sqlserver: login %q on %s: %w", name, c.server, transport.ErrNotFound)
	}
	l.Roles = append([]string{}, l.Roles...)
	return l, nil
}

// invalidateLogins drops the shared read: every statement the client sends
// may change a login or a role membership.
func (c *Client) invalidateLogins() { c.loginsRead.Invalidate() }

// allLogins is every login by loginKey, one read shared (single flight)
// among CachedLogin callers until a write through this client or
// LoginsMaxAge.
func (c *Client) allLogins(ctx context.Context) (map[string]Login, error) {
	return c.loginsRead.Read(ctx, LoginsMaxAge, c.readAllLogins)
}

func (c *Client) readAllLogins(ctx context.Context) (map[string]Login, error) {
	var out map[string]Login
	err := c.query(ctx, "Logins", QueryAllLogins, func(rows *sql.Rows) error {
		out = map[string]Login{}
		for rows.Next() {
			var l Login
			var def sql.NullString
			var id int64
			var disabled sql.NullInt64 // sys.server_principals.is_disabled is an int
			if err := rows.Scan(&l.Name, &l.Type, &id, &disabled, &def); err != nil {
				return err
			}
			l.PrincipalID, l.Disabled, l.DefaultDatabase, l.Roles = int(id), disabled.Int64 != 0, def.String, []string{}
			out[loginKey(l.Name)] = l
		}
		if !rows.NextResultSet() {
			return errors.New("missing the server roles result set")
		}
		for rows.Next() {
			var member, role string
			if err := rows.Scan(&member, &role); err != nil {
				return err
			}
			l, ok := out[loginKey(member)]
			if !ok || strings.EqualFold(role, "public") {
				continue
			}
			l.Roles = append(l.Roles, role)
			out[loginKey(member)] = l
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k, l := range out {
		sort.Strings(l.Roles)
		out[k] = l
	}
	return out, nil
}
