package solution

import (
	"errors"
	"fmt"

	"github.com/google/pprof/profile"
)

// Merge returns the profile the server is built with, from CPU profiles of
// the server under load: all of them, merged.
func Merge(captures []*profile.Profile) (*profile.Profile, error) {
	if len(captures) == 0 {
		return nil, errors.New("no CPU profiles to merge: take at least one of the server under load (make lab-9 takes two)")
	}
	for i, p := range captures {
		if !isCPU(p) {
			return nil, fmt.Errorf("capture %d is not a CPU profile (sampled by %s, its values %s): take /debug/pprof/profile, not fgprof or the heap", i+1, period(p), sampleTypes(p))
		}
	}
	// profile.Merge checks that the captures are compatible (the same
	// sample types and period) and sums the samples of identical stacks.
	return profile.Merge(captures)
}

// isCPU reports whether p is a CPU profile: sampled by CPU time. The
// compiler asks less (a samples/count column), which fgprof's wall-clock
// profile has too: built from one, the inliner would spend its budget on
// the code that waits for the database.
func isCPU(p *profile.Profile) bool {
	return p.PeriodType != nil && p.PeriodType.Type == "cpu"
}

func sampleTypes(p *profile.Profile) string {
	s := ""
	for i, st := range p.SampleType {
		if i > 0 {
			s += ", "
		}
		s += st.Type + "/" + st.Unit
	}
	return s
}

func period(p *profile.Profile) string {
	if p.PeriodType == nil {
		return "nothing"
	}
	return p.PeriodType.Type
}
