package load

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// ReadersResult is what StatsReaders measured.
type ReadersResult struct {
	Reads     int           // GET /stats answered to the fast readers
	P99       time.Duration // their latency's p99
	SlowReads int           // answers the slow reader finished reading
}

// StatsReaders reads GET /stats at target until ctx ends: fast clients in a
// loop, each reading its answer at once, and one slow client that reads its
// answers 512 bytes every 20 ms, the way a client on a bad network does. It
// is the load that makes the statistics' lock matter (lab 3); it runs
// beside an ingest load and stops with ctx.
func StatsReaders(ctx context.Context, target string, fast int) (ReadersResult, error) {
	if err := CheckLoopback(target); err != nil {
		return ReadersResult{}, err
	}
	u, _ := url.Parse(target)
	c := client(&Spec{Workers: fast, Timeout: 30 * time.Second})
	var mu sync.Mutex
	var lat []time.Duration
	var res ReadersResult
	var firstErr error
	var wg sync.WaitGroup
	for range fast {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target+"/stats", nil)
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET /stats: %s", resp.Status)
					}
				}
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					lat = append(lat, time.Since(start))
				}
				mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		d := net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}
		buf := make([]byte, 512)
		for ctx.Err() == nil {
			conn, err := d.DialContext(ctx, "tcp", u.Host)
			if err != nil {
				return
			}
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			fmt.Fprintf(conn, "GET /stats HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", u.Host)
			for {
				if _, err := conn.Read(buf); err != nil {
					if err == io.EOF {
						mu.Lock()
						res.SlowReads++
						mu.Unlock()
					}
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
			stop()
			conn.Close()
		}
	})
	wg.Wait()
	res.Reads = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P99 = lat[min(len(lat)-1, int(float64(len(lat))*0.99))]
	}
	return res, firstErr
}
