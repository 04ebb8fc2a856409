// Command hashicorp-bench is the library workload of `npm run bench` (bench/library.ts) run on
// hashicorp/raft instead of sampan: three Raft servers as three processes talking over TCP on
// 127.0.0.1, raft-boltdb stores (BoltDB fsyncs every commit: fsync on) in a temp directory,
// one group, a counter state machine, and closed-loop clients on the leader: N goroutines each
// applying 16-byte commands back to back (raft.Apply, then waiting on the future), after an
// unrecorded warm-up. It is built offline from Debian's packages by bench/hashicorp.ts:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off go build -o BIN bench/hashicorp/main.go
//
// Run without -role (the coordinator), it starts itself three times with -role=node, drives the
// nodes through their stdin and stdout (one JSON object a line each way), and writes one JSON
// line per event to its own stdout:
//
//	{"type":"info","go":"go1.19.8","raftDir":"...","config":{...}}
//	{"type":"run","inflight":1,"size":16,"rep":0,"count":...,"errors":0,"wallMs":...,
//	 "opsPerSec":...,"p50Ms":...,"p99Ms":...,"p999Ms":...,"maxMs":...,"cpuPct":[..,..,..]}
//	{"type":"done"}
//
// Progress and the nodes' Raft logs (warnings and errors) go to stderr. A node exits when its
// stdin closes, so no node outlives the coordinator.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"
)

// logCacheSize is the LogCache in front of BoltDB, as Consul and Vault configure it (512).
var logCacheSize = flag.Int("logcache", 512, "entries of raft.LogCache in front of BoltDB (0: none)")

func main() {
	role := flag.String("role", "coordinator", "coordinator or node")
	id := flag.Int("id", 1, "node: server id")
	dir := flag.String("dir", "", "data directory (required)")
	inflight := flag.String("inflight", "1,16,64,256,1024", "coordinator: comma-separated in-flight levels")
	size := flag.Int("size", 16, "coordinator: command size in bytes")
	seconds := flag.Float64("seconds", 10, "coordinator: length of each timed run")
	reps := flag.Int("reps", 3, "coordinator: runs per in-flight level")
	warmup := flag.Float64("warmup", 2, "coordinator: seconds of unrecorded load at 64 in flight first")
	flag.Parse()
	if *dir == "" {
		fail(fmt.Errorf("-dir is required"))
	}
	var err error
	if *role == "node" {
		err = node(*id, *dir)
	} else {
		var levels []int
		levels, err = parseLevels(*inflight)
		if err == nil {
			err = coordinate(*dir, levels, *size, *seconds, *reps, *warmup)
		}
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "hashicorp-bench: %v\n", err)
	os.Exit(1)
}

func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad in-flight level %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// ---- node ----

// counterFSM adds one per command, like the CounterSM of bench/host-child.ts.
type counterFSM struct{ count uint64 }

func (f *counterFSM) Apply(*raft.Log) interface{} { f.count++; return f.count }

func (f *counterFSM) Snapshot() (raft.FSMSnapshot, error) { return counterSnap(f.count), nil }

func (f *counterFSM) Restore(r io.ReadCloser) error {
	defer r.Close()
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return err
	}
	f.count = binary.LittleEndian.Uint64(b[:])
	return nil
}

type counterSnap uint64

func (s counterSnap) Persist(sink raft.SnapshotSink) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s))
	if _, err := sink.Write(b[:]); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (counterSnap) Release() {}

// request is one command from the coordinator to a node.
type request struct {
	Op       string   `json:"op"`
	Servers  []server `json:"servers,omitempty"`
	Inflight int      `json:"inflight,omitempty"`
	Size     int      `json:"size,omitempty"`
	Seconds  float64  `json:"seconds,omitempty"`
}

type server struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// reply is a node's answer; only the fields of the op are set.
type reply struct {
	Error     string  `json:"error,omitempty"`
	Addr      string  `json:"addr,omitempty"`
	State     string  `json:"state,omitempty"`
	Leader    string  `json:"leader,omitempty"`
	CPUMicros int64   `json:"cpuMicros,omitempty"`
	Count     int     `json:"count,omitempty"`
	Errors    int     `json:"errors,omitempty"`
	WallMs    float64 `json:"wallMs,omitempty"`
	P50Ms     float64 `json:"p50Ms,omitempty"`
	P99Ms     float64 `json:"p99Ms,omitempty"`
	P999Ms    float64 `json:"p999Ms,omitempty"`
	MaxMs     float64 `json:"maxMs,omitempty"`
}

func raftConfig(id int) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(strconv.Itoa(id))
	c.Logger = hclog.New(&hclog.LoggerOptions{Name: fmt.Sprintf("raft-%d", id), Level: hclog.Warn, Output: os.Stderr})
	return c
}

// node serves one Raft server: the transport listens at once (its address is the first line
// out), the server starts on "start", then commands are answered in order until stdin closes.
func node(id int, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	conf := raftConfig(id)
	trans, err := raft.NewTCPTransportWithLogger("127.0.0.1:0", nil, 3, 10*time.Second, conf.Logger)
	if err != nil {
		return err
	}
	// BoltDB fsyncs every committed transaction unless NoSync is set (it is not).
	bolt, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft.db"))
	if err != nil {
		return err
	}
	var logs raft.LogStore = bolt
	if *logCacheSize > 0 {
		if logs, err = raft.NewLogCache(*logCacheSize, bolt); err != nil {
			return err
		}
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 1, conf.Logger)
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	if err := out.Encode(reply{Addr: string(trans.LocalAddr())}); err != nil {
		return err
	}
	var r *raft.Raft
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var q request
		var a reply
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			return fmt.Errorf("bad request %q: %v", in.Text(), err)
		}
		switch {
		case q.Op == "start" && r == nil:
			r, err = start(conf, logs, bolt, snaps, trans, q.Servers)
		case q.Op == "state" && r != nil:
			a.State = r.State().String()
			a.Leader = string(r.Leader())
		case q.Op == "cpu":
			a.CPUMicros = cpuMicros()
		case q.Op == "load" && r != nil:
			a = load(r, q.Inflight, q.Size, q.Seconds)
		case q.Op == "exit":
			if r != nil {
				_ = r.Shutdown().Error()
			}
			_ = trans.Close()
			_ = bolt.Close()
			return out.Encode(a)
		default:
			err = fmt.Errorf("unexpected op %q", q.Op)
		}
		if err != nil {
			a.Error = err.Error()
			err = nil
		}
		if err := out.Encode(a); err != nil {
			return err
		}
	}
	// stdin closed: the coordinator is gone.
	if r != nil {
		_ = r.Shutdown().Error()
	}
	return nil
}

// start bootstraps the store with every server as a voter (as each server of a new cluster
// may) and starts Raft.
func start(conf *raft.Config, logs raft.LogStore, stable raft.StableStore, snaps raft.SnapshotStore, trans raft.Transport, servers []server) (*raft.Raft, error) {
	var cfg raft.Configuration
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.Addr)})
	}
	if err := raft.BootstrapCluster(conf, logs, stable, snaps, trans, cfg); err != nil {
		return nil, err
	}
	return raft.NewRaft(conf, &counterFSM{}, logs, stable, snaps, trans)
}

// cpuMicros is the user and system CPU time of this process so far.
func cpuMicros() int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return u.Utime.Nano()/1000 + u.Stime.Nano()/1000
}

// load runs `inflight` clients for `seconds`, each applying `size`-byte commands back to back
// and timing each from Apply to its future's answer (the command applied on the leader).
func load(r *raft.Raft, inflight, size int, seconds float64) reply {
	cmd := make([]byte, size)
	for i := range cmd {
		cmd[i] = 7
	}
	lat := make([][]time.Duration, inflight)
	errs := make([]int, inflight)
	t0 := time.Now()
	end := t0.Add(time.Duration(seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for w := 0; w < inflight; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(end) {
				t := time.Now()
				if err := r.Apply(cmd, 10*time.Second).Error(); err != nil {
					errs[w]++
					time.Sleep(5 * time.Millisecond)
					continue
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		}(w)
	}
	wg.Wait()
	wall := time.Since(t0)
	var all []time.Duration
	a := reply{WallMs: ms(wall)}
	for w := range lat {
		all = append(all, lat[w]...)
		a.Errors += errs[w]
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	a.Count = len(all)
	a.P50Ms, a.P99Ms, a.P999Ms = ms(pct(all, 0.5)), ms(pct(all, 0.99)), ms(pct(all, 0.999))
	if len(all) > 0 {
		a.MaxMs = ms(all[len(all)-1])
	}
	return a
}

// pct is the same percentile as bench/limits.ts: element floor(n·p) of the sorted sample.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)) * p)
	if i > len(sorted)-1 {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// ---- coordinator ----

// child is a node process driven over its stdin and stdout.
type child struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	addr string
}

func spawn(id int, dir string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-role=node", fmt.Sprintf("-id=%d", id), "-dir="+filepath.Join(dir, fmt.Sprintf("node-%d", id)),
		fmt.Sprintf("-logcache=%d", *logCacheSize))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(outPipe)}
	var first reply
	if err := c.read(&first); err != nil {
		return nil, fmt.Errorf("node %d did not start: %v", id, err)
	}
	c.addr = first.Addr
	return c, nil
}

func (c *child) read(a *reply) error {
	if !c.out.Scan() {
		if err := c.out.Err(); err != nil {
			return err
		}
		return io.ErrUnexpectedEOF
	}
	if err := json.Unmarshal(c.out.Bytes(), a); err != nil {
		return err
	}
	if a.Error != "" {
		return fmt.Errorf("%s", a.Error)
	}
	return nil
}

func (c *child) call(q request) (reply, error) {
	var a reply
	b, _ := json.Marshal(q)
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		return a, err
	}
	err := c.read(&a)
	return a, err
}

// emit writes one JSON line to stdout.
func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func progress(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "[hashicorp-bench] "+format+"\n", args...)
}

// callAll calls every node at once and returns their replies in order.
func callAll(nodes []*child, q request) ([]reply, error) {
	out := make([]reply, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func(i int, n *child) { defer wg.Done(); out[i], errs[i] = n.call(q) }(i, n)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("node %d: %s: %v", i+1, q.Op, err)
		}
	}
	return out, nil
}

// leader waits until one node is leader and every node knows it; returns its index.
func leader(nodes []*child, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		st, err := callAll(nodes, request{Op: "state"})
		if err != nil {
			return -1, err
		}
		lead, known := -1, 0
		for i, s := range st {
			if s.State == "Leader" {
				lead = i
			}
			if s.Leader != "" {
				known++
			}
		}
		if lead >= 0 && known == len(nodes) && st[lead].Leader == nodes[lead].addr {
			return lead, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1, fmt.Errorf("no leader after %v", timeout)
}

// measure runs one load on the leader and the CPU of every node over it.
func measure(nodes []*child, inflight, size int, seconds float64) (reply, []float64, error) {
	lead, err := leader(nodes, 30*time.Second)
	if err != nil {
		return reply{}, nil, err
	}
	c0, err := callAll(nodes, request{Op: "cpu"})
	if err != nil {
		return reply{}, nil, err
	}
	t0 := time.Now()
	a, err := nodes[lead].call(request{Op: "load", Inflight: inflight, Size: size, Seconds: seconds})
	if err != nil {
		return reply{}, nil, err
	}
	c1, err := callAll(nodes, request{Op: "cpu"})
	if err != nil {
		return reply{}, nil, err
	}
	wallUs := float64(time.Since(t0).Microseconds())
	cpu := make([]float64, len(nodes))
	for i := range nodes {
		cpu[i] = float64(c1[i].CPUMicros-c0[i].CPUMicros) / wallUs * 100
	}
	return a, cpu, nil
}

func coordinate(dir string, levels []int, size int, seconds float64, reps int, warmup float64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var nodes []*child
	defer func() {
		for _, n := range nodes {
			_ = n.in.Close()
			done := make(chan struct{})
			go func(n *child) { _ = n.cmd.Wait(); close(done) }(n)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = n.cmd.Process.Kill()
			}
		}
	}()
	for id := 1; id <= 3; id++ {
		n, err := spawn(id, dir)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	var servers []server
	for i, n := range nodes {
		servers = append(servers, server{ID: strconv.Itoa(i + 1), Addr: n.addr})
	}
	if _, err := callAll(nodes, request{Op: "start", Servers: servers}); err != nil {
		return err
	}
	if _, err := leader(nodes, 60*time.Second); err != nil {
		return err
	}
	c := raft.DefaultConfig()
	emit(map[string]interface{}{"type": "info", "go": runtime.Version(), "config": map[string]interface{}{
		"heartbeatTimeoutMs": c.HeartbeatTimeout.Milliseconds(), "electionTimeoutMs": c.ElectionTimeout.Milliseconds(),
		"commitTimeoutMs": c.CommitTimeout.Milliseconds(), "maxAppendEntries": c.MaxAppendEntries, "logCache": *logCacheSize,
		"store": "raft-boltdb (fsync on)", "transport": "TCP 127.0.0.1, pool 3",
	}})
	if warmup > 0 {
		progress("warm-up, 64 in flight, %.0f s", warmup)
		if _, _, err := measure(nodes, 64, size, warmup); err != nil {
			return err
		}
	}
	for _, n := range levels {
		for r := 0; r < reps; r++ {
			progress("%d B commands, %d in flight, run %d/%d (%.0f s)", size, n, r+1, reps, seconds)
			a, cpu, err := measure(nodes, n, size, seconds)
			if err != nil {
				return err
			}
			emit(map[string]interface{}{"type": "run", "inflight": n, "size": size, "rep": r, "count": a.Count, "errors": a.Errors,
				"wallMs": a.WallMs, "opsPerSec": float64(a.Count) / (a.WallMs / 1000), "p50Ms": a.P50Ms, "p99Ms": a.P99Ms,
				"p999Ms": a.P999Ms, "maxMs": a.MaxMs, "cpuPct": cpu})
		}
	}
	if _, err := callAll(nodes, request{Op: "exit"}); err != nil {
		return err
	}
	emit(map[string]interface{}{"type": "done"})
	return nil
}
