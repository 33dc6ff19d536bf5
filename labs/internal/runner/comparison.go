package runner

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/flamelab/flamelab/labs/internal/load"
)

// Options are the settings of a comparison that make lab-N and the
// capstone share.
type Options struct {
	Pairs int // A B pairs measured
	Work      // what every leg sends and measures
	// ProfileWork is the work, in seconds at the side's measured rate,
	// that a profiled leg does; 0 means 5.
	ProfileWork float64
	Trace       bool // also capture a short execution trace
	// MinLegSeconds sizes the work when Load.Requests is 0: each side
	// first runs a short calibration leg (outside the statistics), and
	// every measured leg then gets the requests the faster side needs to
	// last this long; 0 means 3. A fast server finishes a fixed 600
	// requests in a third of a second, which measures start-up and tail,
	// not throughput.
	MinLegSeconds float64
	// MaxRequests caps the sized work, so a very slow side cannot make a
	// run take an hour; 0 means 40,000. A capped size is reported.
	MaxRequests int
	// SlowLegSeconds bounds the slower side's legs when the sides differ
	// tenfold (lab 07, the capstone): the work is cut so the slow side's
	// legs last about this long, but never below a second of the faster
	// side's; 0 means 12. Both sides still get the same work, and the
	// report says when this cut it.
	SlowLegSeconds float64
}

// Comparison is two servers measured against each other: A, the before
// side, and B, the after side, each a -stages configuration (and flags).
type Comparison struct {
	Title string // names the pages, the tables and the progress lines
	// Lab, Slug, Trick and Claim head the report; Profile is the teaching
	// profile: it gets a top table, a diff page, and each side's Stage
	// share of it.
	Lab                int
	Slug, Trick, Claim string
	Profile            string
	A, B               *Side
	Options
}

// Compare measures cmp: the sides alternate over the same work, in a
// balanced order, then each is profiled; it renders every profile and
// writes the report (report.json, .md, .html) to b.OutDir.
//
// It is long on purpose: the comparison's steps (sizing, alternating legs,
// profiled legs, rendering, the table) in the order they run.
func (b *Bench) Compare(ctx context.Context, cmp Comparison) (*Report, error) {
	start := time.Now()
	if err := os.MkdirAll(b.OutDir, 0o755); err != nil {
		return nil, err
	}
	rep := &Report{
		Title: cmp.Title, Lab: cmp.Lab, Slug: cmp.Slug, Trick: cmp.Trick, Claim: cmp.Claim, Profile: cmp.Profile,
		Started: start, Commit: b.Commit, Machine: machine(), Database: strings.TrimPrefix(b.DB.String(), "database: "), Load: cmp.Load, Pairs: cmp.Pairs, ProfileSeconds: profileWindow(cmp.ProfileWork),
		A: cmp.A, B: cmp.B,
		Tops: map[string]string{}, Flamegraphs: map[string]string{},
	}
	if !b.DB.Fsync {
		rep.Warnings = append(rep.Warnings, "the database runs with fsync=off: commit costs are not measured")
	}
	rt, err := MeasureRoundTrip(ctx, b.DB.Pool, 300)
	if err != nil {
		return nil, err
	}
	rep.RoundTrip = rt
	if cmp.Load.Requests <= 0 {
		sz, err := b.size(ctx, &cmp, rep.A, rep.B)
		if err != nil {
			return nil, fmt.Errorf("sizing the legs: %w", err)
		}
		cmp.Load.Requests, rep.Load.Requests, rep.Sizing = sz.Requests, sz.Requests, sz
		if sz.Capped {
			rep.Warnings = append(rep.Warnings, sz.String())
		}
	}
	if cmp.Reads < 0 {
		cmp.Reads = cmp.Load.Requests
	}

	// The measured pairs, alternating, so drift of the machine hits both
	// sides alike, and in a balanced order (A B, B A, A B, ...): with a
	// fixed order, a machine that slowly speeds up or slows down makes
	// every "after" leg look better or worse, and an A/A run was once
	// called significant that way.
	total := 2 * cmp.Pairs
	for i := range cmp.Pairs {
		order := []*Side{rep.A, rep.B}
		if i%2 == 1 {
			order = []*Side{rep.B, rep.A}
		}
		for j, side := range order {
			b.Progressf("%s: leg %d/%d: %s (%s)", cmp.Title, 2*i+j+1, total, side.Name, side.Impl)
			leg, err := b.Leg(ctx, side, cmp.Work, fmt.Sprintf("leg%d", 2*i+j+1))
			if err != nil {
				return nil, err
			}
			side.Legs = append(side.Legs, leg)
		}
	}
	// Then profiled legs per side; their numbers stay out of the
	// statistics, because profilers cost the server time.
	for _, side := range []*Side{rep.A, rep.B} {
		b.Progressf("%s: profiling leg: %s (%s)", cmp.Title, side.Name, side.Impl)
		if err := b.Profile(ctx, side, cmp.Work, Profiling{Work: cmp.ProfileWork, Trace: cmp.Trace, Kind: cmp.Profile}); err != nil {
			return nil, err
		}
	}

	b.Progressf("%s: rendering flame graphs", cmp.Title)
	if err := b.render(&cmp, rep); err != nil {
		return nil, err
	}
	for _, side := range []*Side{rep.A, rep.B} {
		// 100 Hz sampling: under a second of CPU is under 100 samples.
		if cmp.Profile == "cpu" && side.Stage != "" && side.StageShare.Total < int64(time.Second) {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"the %s budget share rests on %s of CPU samples (under 100 samples): too few to read much into; use more -requests",
				side.Name, side.StageShare.Of()))
		}
	}
	rep.Metrics = metrics(rep)
	for _, m := range rep.Metrics {
		for _, w := range m.Warnings {
			rep.Warnings = append(rep.Warnings, m.Name+": "+w)
		}
	}
	rep.ElapsedSecs = time.Since(start).Seconds()
	if err := write(b.OutDir, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// calibrationRequests is the work of a calibration leg: long enough for a
// rate within tens of percent (it sizes the legs; it measures nothing).
const calibrationRequests = 500

// size runs one calibration leg per side and returns the work that makes
// the faster side's measured legs last MinLegSeconds. Both sides get the
// same count: a comparison of different work is not a comparison.
func (bn *Bench) size(ctx context.Context, c *Comparison, a, b *Side) (*Sizing, error) {
	sz := &Sizing{MinLegSeconds: c.MinLegSeconds}
	if sz.MinLegSeconds <= 0 {
		sz.MinLegSeconds = 3
	}
	limit := c.MaxRequests
	if limit <= 0 {
		limit = 40_000
	}
	if c.Load.Mode == load.Latency {
		// A fixed rate needs no calibration: the rate is the speed.
		sz.CalibrationA, sz.CalibrationB = float64(c.Load.Rate), float64(c.Load.Rate)
		sz.Requests = min(SizeWork(float64(c.Load.Rate), sz.MinLegSeconds), limit)
		return sz, nil
	}
	cal := Work{Load: c.Load}
	cal.Load.Requests = calibrationRequests
	for _, side := range []*Side{a, b} {
		bn.Progressf("calibrating the work per leg: %s (%s)", side.Name, side.Impl)
		leg, err := bn.Leg(ctx, side, cal, "calibrate-"+side.Name)
		if err != nil {
			return nil, err
		}
		if side == a {
			sz.CalibrationA = leg.Load.ReqPerSec
		} else {
			sz.CalibrationB = leg.Load.ReqPerSec
		}
	}
	sz.SlowLegSeconds = c.SlowLegSeconds
	if sz.SlowLegSeconds <= 0 {
		sz.SlowLegSeconds = 12
	}
	sz.Requests, sz.SlowCapped = SizePair(sz.CalibrationA, sz.CalibrationB, sz.MinLegSeconds, sz.SlowLegSeconds)
	if sz.Requests > limit {
		sz.Requests, sz.Capped = limit, true
	}
	if fast := max(sz.CalibrationA, sz.CalibrationB); fast > 0 {
		sz.FastSeconds = float64(sz.Requests) / fast
	}
	return sz, nil
}

// SizePair returns the work of every leg of a comparison of sides running
// at rates a and b: what makes the faster side last minLeg seconds, cut to
// what makes the slower one last about maxSlow seconds, but never below a
// second of the faster side's. slowCapped says the cut was made.
func SizePair(a, b, minLeg, maxSlow float64) (requests int, slowCapped bool) {
	fast, slow := max(a, b), min(a, b)
	n := SizeWork(fast, minLeg)
	if slow > 0 && maxSlow > 0 {
		if limit := max(SizeWork(slow, maxSlow), SizeWork(fast, 1)); n > limit {
			return limit, true
		}
	}
	return n, false
}

// SizeWork returns the requests that last seconds at perSec, with a quarter
// to spare (a calibration leg runs a little slower or faster than the
// measured ones), rounded up to a hundred, and never under 600, the
// fixed work labs used before.
func SizeWork(perSec, seconds float64) int {
	n := int(math.Ceil(perSec*seconds*1.25/100)) * 100
	return max(n, 600)
}
