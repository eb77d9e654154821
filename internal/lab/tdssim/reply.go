package tdssim

import (
	"github.com/bastion-pam/terraform-provider-bastion/internal/lab/tdssim/tsql"
)

// reply writes a batch's or an RPC's outputs as SQL Server does: per result
// set COLMETADATA, ROWs and DONE (DONEINPROC inside an RPC) with the row
// count unless NOCOUNT; then the error, if any; the last DONE (or the
// DONEPROC of an RPC) is final.
func (t *tokens) reply(outs []tsql.Output, err *tsql.Error, rpc, noCount bool, server string) {
	lastDone := -1
	done := func(status, curCmd uint16, rows uint64) {
		token := byte(tokDone)
		if rpc {
			token = tokDoneInProc
		}
		lastDone = len(t.b)
		t.done(token, status|doneMore, curCmd, rows)
	}
	for _, o := range outs {
		switch {
		case o.Result != nil:
			t.colMetadata(o.Result.Columns)
			for _, r := range o.Result.Rows {
				t.row(o.Result.Columns, r)
			}
			status := uint16(0)
			if !noCount {
				status = doneCount
			}
			done(status, curCmdSelect, uint64(len(o.Result.Rows)))
		case o.Info != nil:
			t.message(tokInfo, *toModel(o.Info), server)
		case o.Database != "":
			t.envChange(envDatabase, o.Database, "")
		case o.Done:
			done(0, 0, 0)
		}
	}
	if err != nil {
		t.sqlError(toModel(err), server)
	}
	switch {
	case rpc:
		t.returnStatus(map[bool]int32{true: 0, false: 1}[err == nil])
		status := uint16(doneFinal)
		if err != nil {
			status = doneError
		}
		t.done(tokDoneProc, status, 0, 0)
	case err != nil:
		t.done(tokDone, doneError, 0, 0)
	case lastDone >= 0:
		// Clear DONE_MORE on the last statement's DONE: the batch ends there.
		status := uint16(t.b[lastDone+1]) | uint16(t.b[lastDone+2])<<8
		status &^= doneMore
		t.b[lastDone+1], t.b[lastDone+2] = byte(status), byte(status>>8)
	default:
		t.done(tokDone, doneFinal, 0, 0)
	}
}
