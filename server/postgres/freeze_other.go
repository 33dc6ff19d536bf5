//go:build !linux

package postgres

import (
	"context"
	"errors"
)

// Freeze stops a database's processes, for fault tests; it needs Linux's
// /proc to find them.
func (db *Database) Freeze(context.Context) (resume func() error, err error) {
	return nil, errors.New("freeze: needs Linux (/proc)")
}
