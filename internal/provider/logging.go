package provider

import (
	"context"
	"log/slog"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Log subsystems, one per adapter.
const (
	subsystemWinRM = "winrm"
	subsystemLDAP  = "ldap"
	subsystemSQL   = "sql"
)

var subsystems = []string{subsystemWinRM, subsystemLDAP, subsystemSQL}

// tflogHandler bridges an adapter's slog logger into a tflog subsystem. It
// logs through the ctx of each call, so the masking set on that ctx applies.
type tflogHandler struct {
	subsystem string
	attrs     []slog.Attr
	group     string
}

func newAdapterLogger(subsystem string) *slog.Logger {
	return slog.New(&tflogHandler{subsystem: subsystem})
}

func (h *tflogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *tflogHandler) Handle(ctx context.Context, r slog.Record) error {
	fields := map[string]any{}
	add := func(a slog.Attr) {
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		fields[key] = a.Value.Resolve().Any()
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	switch {
	case r.Level >= slog.LevelError:
		tflog.SubsystemError(ctx, h.subsystem, r.Message, fields)
	case r.Level >= slog.LevelWarn:
		tflog.SubsystemWarn(ctx, h.subsystem, r.Message, fields)
	case r.Level >= slog.LevelInfo:
		tflog.SubsystemInfo(ctx, h.subsystem, r.Message, fields)
	default:
		tflog.SubsystemDebug(ctx, h.subsystem, r.Message, fields)
	}
	return nil
}

func (h *tflogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *tflogHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.group = name
	return &c
}

// withLogging prepares ctx for one provider operation: it creates the adapter
// subsystems and masks every secret in messages and field values of the root
// logger and of each subsystem.
func withLogging(ctx context.Context, secrets ...string) context.Context {
	var s []string
	for _, v := range secrets {
		if v != "" {
			s = append(s, v)
		}
	}
	for _, sub := range subsystems {
		ctx = tflog.NewSubsystem(ctx, sub)
		if len(s) > 0 {
			ctx = tflog.SubsystemMaskAllFieldValuesStrings(ctx, sub, s...)
			ctx = tflog.SubsystemMaskMessageStrings(ctx, sub, s...)
		}
	}
	if len(s) > 0 {
		ctx = tflog.MaskAllFieldValuesStrings(ctx, s...)
		ctx = tflog.MaskMessageStrings(ctx, s...)
	}
	return ctx
}
