package flame

import (
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/google/pprof/profile"
)

// Share is how much of a profile a set of functions accounts for.
type Share struct {
	Flat  float64 // samples whose leaf frame matches, over all samples
	Cum   float64 // samples with a matching frame anywhere on the stack
	Total int64   // the profile's total of the sample value used
	Unit  string  // its unit: "nanoseconds", "bytes", "count"
}

// Of says what the share is a share of, for people: "630ms", "12.3MB".
func (s Share) Of() string {
	switch s.Unit {
	case "nanoseconds":
		return time.Duration(s.Total).Round(time.Millisecond).String()
	case "bytes":
		return fmt.Sprintf("%.1fMB", float64(s.Total)/1e6)
	}
	return fmt.Sprintf("%d %s", s.Total, s.Unit)
}

func (s Share) String() string {
	return fmt.Sprintf("flat %.1f%%, cum %.1f%%", 100*s.Flat, 100*s.Cum)
}

// Load reads a profile file (.pb.gz or legacy formats pprof understands).
func Load(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return profile.Parse(f)
}

// FuncShare returns the share of p's samples spent in functions whose name
// matches re, using the sample value named valueType (e.g. "cpu",
// "alloc_space", "delay"), or the last one if valueType is "". Inlined frames
// count: a function inlined into its caller still matches by its own name.
func FuncShare(p *profile.Profile, re *regexp.Regexp, valueType string) (Share, error) {
	idx := len(p.SampleType) - 1
	if valueType != "" {
		idx = -1
		for i, st := range p.SampleType {
			if st.Type == valueType {
				idx = i
			}
		}
		if idx < 0 {
			return Share{}, fmt.Errorf("profile has no sample type %q", valueType)
		}
	}
	var total, flat, cum int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		matched := false
		for li, loc := range s.Location {
			for i, line := range loc.Line {
				if line.Function == nil || !re.MatchString(line.Function.Name) {
					continue
				}
				matched = true
				// The leaf is the first line of the first location.
				if li == 0 && i == 0 {
					flat += v
				}
			}
		}
		if matched {
			cum += v
		}
	}
	if total == 0 {
		return Share{Unit: p.SampleType[idx].Unit}, nil
	}
	return Share{Flat: float64(flat) / float64(total), Cum: float64(cum) / float64(total), Total: total, Unit: p.SampleType[idx].Unit}, nil
}
