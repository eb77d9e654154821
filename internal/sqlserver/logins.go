package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/bastion-pam/terraform-provider-bastion/internal/transport"
)

// Login is a server login with its server role memberships.
type Login struct {
	Name            string
	Type            string // WINDOWS_LOGIN, WINDOWS_GROUP or SQL_LOGIN
	PrincipalID     int
	Disabled        bool
	DefaultDatabase string
	Roles           []string // server roles, sorted (public is implicit and not listed)
}

// checkName refuses what can never be a SQL Server identifier (sysname is
// nvarchar(128)); everything else travels as a parameter and is quoted by
// QUOTENAME on the server.
func checkName(kind, name string) error {
	if name == "" || utf8.RuneCountInString(name) > 128 {
		return fmt.Errorf("sqlserver: %s name must have 1 to 128 characters", kind)
	}
	for _, r := range name {
		if r < 0x20 || r == utf8.RuneError {
			return fmt.Errorf("sqlserver: %s name %q contains a control character", kind, name)
		}
	}
	return nil
}

// Login reads a login and its server roles; transport.ErrNotFound when it
// does not exist (or the adapter's login may not see it).
func (c *Client) Login(ctx context.Context, name string) (Login, error) {
	if err := checkName("login", name); err != nil {
		return Login{}, err
	}
	var out Login
	found := false
	err := c.query(ctx, "Login", QueryLogin, func(rows *sql.Rows) error {
		found = false
		for rows.Next() {
			var def sql.NullString
			var id int64
			// sys.server_principals.is_disabled is an int (1 = disabled), not a bit.
			var disabled sql.NullInt64
			if err := rows.Scan(&out.Name, &out.Type, &id, &disabled, &def); err != nil {
				return err
			}
			out.PrincipalID, out.Disabled, out.DefaultDatabase, found = int(id), disabled.Int64 != 0, def.String, true
		}
		if !rows.NextResultSet() {
			return errors.New("missing the server roles result set")
		}
		out.Roles = []string{}
		for rows.Next() {
			var role string
			if err := rows.Scan(&role); err != nil {
				return err
			}
			if !strings.EqualFold(role, "public") {
				out.Roles = append(out.Roles, role)
			}
		}
		return nil
	}, name)
	if err != nil {
		return Login{}, err
	}
	if !found {
		return Login{}, fmt.Errorf("sqlserver: login %q on %s: %w", name, c.server, transport.ErrNotFound)
	}
	sort.Strings(out.Roles)
	return out, nil
}

// CreateLogin creates a Windows login (DOMAIN\name) and adds it to roles. A
// login that exists already is ErrLoginExists; an account the server's
// domain lookup does not find is an *AccountNotFoundError. If a role cannot be granted
// the new login is dropped again.
func (c *Client) CreateLogin(ctx context.Context, name string, roles []string) error {
	if err := checkName("login", name); err != nil {
		return err
	}
	if !strings.Contains(name, `\`) {
		return fmt.Errorf("sqlserver: Windows login %q must be DOMAIN\\name", name)
	}
	for _, r := range roles {
		if err := checkName("server role", r); err != nil {
			return err
		}
	}
	if err := c.execIdempotent(ctx, "CreateLogin", StmtCreateWindowsLogin, errPrincipalExists, name); err != nil {
		if n, ok := sqlNumber(err); ok && n == errAccountNotFound {
			return &AccountNotFoundError{Account: name, Err: err}
		}
		return err
	}
	if len(roles) == 0 {
		return nil
	}
	if err := c.SetLoginRoles(ctx, name, roles); err != nil {
		if dropErr := c.DropLogin(ctx, name); dropErr != nil && !errors.Is(dropErr, transport.ErrNotFound) {
			return errors.Join(err, fmt.Errorf("login %q was created but could not be dropped again: %w", name, dropErr))
		}
		return err
	}
	return nil
}

// SetLoginRoles makes the login's server roles exactly roles (public aside).
func (c *Client) SetLoginRoles(ctx context.Context, name string, roles []string) error {
	for _, r := range roles {
		if err := checkName("server role", r); err != nil {
			return err
		}
	}
	current, err := c.Login(ctx, name)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, r := range roles {
		if !strings.EqualFold(r, "public") {
			want[strings.ToLower(r)] = r
		}
	}
	have := map[string]bool{}
	for _, r := range current.Roles {
		have[strings.ToLower(r)] = true
		if _, keep := want[strings.ToLower(r)]; !keep {
			if err := c.exec(ctx, "SetLoginRoles", StmtDropRoleMember, name, r); err != nil {
				return err
			}
		}
	}
	add := make([]string, 0, len(want))
	for k, r := range want {
		if !have[k] {
			add = append(add, r)
		}
	}
	sort.Strings(add)
	for _, r := range add {
		if err := c.exec(ctx, "SetLoginRoles", StmtAddRoleMember, name, r); err != nil {
			return err
		}
	}
	return nil
}

// DropLogin drops a login; transport.ErrNotFound when it does not exist.
func (c *Client) DropLogin(ctx context.Context, name string) error {
	if err := checkName("login", name); err != nil {
		return err
	}
	err := c.execIdempotent(ctx, "DropLogin", StmtDropLogin, errPrincipalMissing, name)
	if n, ok := sqlNumber(err); ok && n == errPrincipalMissing {
		return fmt.Errorf("sqlserver: login %q on %s: %w: %w", name, c.server, transport.ErrNotFound, err)
	}
	return err
}

// execIdempotent runs a statement whose retry after a lost connection may
// meet its own effect: then errAlreadyDone (15025 for CREATE, 15151 for DROP)
// means the first attempt succeeded.
func (c *Client) execIdempotent(ctx context.Context, what, text string, errAlreadyDone int32, args ...any) error {
	maybeRan := false
	defer c.invalidateLogins()
	return c.run(ctx, what, func(ctx context.Context) error {
		c.queries.Add(1)
		_, err := c.db.ExecContext(ctx, text, args...)
		if err == nil {
			return nil
		}
		if n, ok := sqlNumber(err); ok {
			if n == errAlreadyDone && maybeRan {
				return nil
			}
			return err
		}
		if isNetwork(err) && !errors.Is(err, transport.ErrUnreachable) {
			maybeRan = true
		}
		return err
	})
}
