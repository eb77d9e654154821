package tsql

import (
	"fmt"
	"strings"
)

// Error is a SQL Server error: number, severity (class), state and message
// as sys.messages holds them. Before are errors raised first (300 before 297).
// https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors
type Error struct {
	Number  int32
	State   uint8
	Class   uint8
	Message string
	Before  []Error
}

func (e *Error) Error() string {
	return fmt.Sprintf("Msg %d, Level %d, State %d: %s", e.Number, e.Class, e.State, e.Message)
}

func newErr(number int32, class, state uint8, format string, args ...any) *Error {
	return &Error{Number: number, Class: class, State: state, Message: fmt.Sprintf(format, args...)}
}

// Errors of the Database Engine the evaluator raises, with the severity and
// state SQL Server gives them (the "Database Engine events and errors" pages).
func errSyntaxNear(near string) *Error {
	return newErr(102, 15, 1, "Incorrect syntax near '%s'.", near)
}

func errSyntaxKeyword(kw string) *Error {
	return newErr(156, 15, 1, "Incorrect syntax near the keyword '%s'.", kw)
}

func errUnclosedQuote(rest string) *Error {
	return newErr(105, 15, 1, "Unclosed quotation mark after the character string '%s'.", strings.TrimLeft(rest, "N'[\""))
}

func errMissingEndComment() *Error { return newErr(113, 15, 1, "Missing end comment mark '*/'.") }

func errInvalidColumn(name string) *Error {
	return newErr(207, 16, 1, "Invalid column name '%s'.", name)
}

func errInvalidObject(name string) *Error {
	return newErr(208, 16, 1, "Invalid object name '%s'.", name)
}

func errAmbiguousColumn(name string) *Error {
	return newErr(209, 16, 1, "Ambiguous column name '%s'.", name)
}

func errNotBound(name string) *Error {
	return newErr(4104, 16, 1, "The multi-part identifier \"%s\" could not be bound.", name)
}

func errMustDeclare(name string) *Error {
	return newErr(137, 15, 2, "Must declare the scalar variable \"%s\".", name)
}

func errVariableDeclared(name string) *Error {
	return newErr(134, 15, 1, "The variable name '%s' has already been declared. Variable names must be unique within a query batch or stored procedure.", name)
}

func errUnknownFunction(name string) *Error {
	return newErr(195, 15, 10, "'%s' is not a recognized built-in function name.", name)
}

func errArgCount(name string, n int) *Error {
	return newErr(174, 15, 1, "The %s function requires %d argument(s).", strings.ToLower(name), n)
}

func errUnknownType(name string) *Error {
	return newErr(243, 16, 2, "Type %s is not a defined system type.", name)
}

func errConversion(from Type, value string, to Type) *Error {
	return newErr(245, 16, 1, "Conversion failed when converting the %s value '%s' to data type %s.", from.Name(), value, to.Name())
}

func errUnknownSetOption(name string) *Error {
	return newErr(195, 15, 1, "'%s' is not a recognized SET option.", name)
}

func errNoProcedure(name string) *Error {
	return newErr(2812, 16, 62, "Could not find stored procedure '%s'.", name)
}

func errNoDatabase(name string) *Error {
	return newErr(911, 16, 1, "Database '%s' does not exist. Make sure that the name is entered correctly.", name)
}

func errOrderByNumber(n int) *Error {
	return newErr(108, 16, 1, "The ORDER BY position number %d is out of range of the number of items in the select list.", n)
}

func errNoTablesStar() *Error {
	return newErr(263, 16, 1, "Must specify table to select from.")
}

func errDivideByZero() *Error { return newErr(8134, 16, 1, "Divide by zero error encountered.") }

func errOperand(t Type, op string) *Error {
	return newErr(8117, 16, 1, "Operand data type %s is invalid for %s operator.", t.Name(), op)
}

func errAggregateInWhere() *Error {
	return newErr(147, 15, 1, "An aggregate may not appear in the WHERE clause unless it is in a subquery contained in a HAVING clause or a select list, and the column being aggregated is an outer reference.")
}

func errNotInAggregate(col string) *Error {
	return newErr(8120, 16, 1, "Column '%s' is invalid in the select list because it is not contained in either an aggregate function or the GROUP BY clause.", col)
}

// ErrPermission is error 229 for a permission denied on a system object.
func ErrPermission(permission, object string) *Error {
	return newErr(229, 14, 5, "The %s permission was denied on the object '%s', database 'mssqlsystemresource', schema 'sys'.", permission, object)
}

// ErrServerPermission is errors 300 then 297: a server permission (VIEW
// SERVER STATE) a dynamic management view needs.
func ErrServerPermission(permission string) *Error {
	e := newErr(297, 16, 1, "The user does not have permission to perform this action.")
	e.Before = []Error{*newErr(300, 14, 1, "%s permission was denied on object 'server', database 'master'.", permission)}
	return e
}
