// Package pgtest finds a PostgreSQL server for tests, or starts a
// throw-away one.
//
// [DSN] returns $GPDOC_TEST_POSTGRES when it is set (CI sets it: see
// .ci/run). Otherwise the first call starts a cluster of this test process
// with the initdb and pg_ctl of /usr/lib/postgresql/*/bin (or $PATH), in a
// temporary directory, listening on 127.0.0.1 and a unix socket in that
// directory, with trust authentication; [Main] stops it and removes the
// directory when the tests end. PostgreSQL refuses to run as root, so when
// the tests run as root the cluster runs as the "postgres" user, or
// "nobody", which then owns the directory. When no server can be had the
// test is skipped, saying why.
//
// Each test gets its own schema ([Schema]), dropped when it ends, so tests
// can share one server and run in parallel.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding the DSN of a server for tests.
const EnvDSN = "GPDOC_TEST_POSTGRES"

var (
	once    sync.Once
	dsn     string
	why     string // why there is no server, when dsn is empty
	cluster *Cluster
)

// DSN returns the DSN of a PostgreSQL server for tests, or skips t saying
// why there is none.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dsn = os.Getenv(EnvDSN); dsn != "" {
			return
		}
		c, err := Start(context.Background())
		if err != nil {
			why = fmt.Sprintf("no PostgreSQL for the tests: %s is not set, and starting a throw-away cluster failed: %v", EnvDSN, err)
			return
		}
		cluster, dsn = c, c.DSN
	})
	if dsn == "" {
		t.Skip(why)
	}
	return dsn
}

// Main runs the tests and then stops the cluster [DSN] started, if any. Call
// it from TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	os.Exit(code)
}

// Schema returns a new schema name for one test, and drops the schema (if
// the code under test created it) when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	d := DSN(t)
	name := "gpdoc_test_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, d)
		if err != nil {
			t.Logf("dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Logf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// Cluster is a throw-away PostgreSQL cluster.
type Cluster struct {
	// DSN connects to its "postgres" database as the superuser "postgres".
	DSN string
	// Dir holds the data directory, the socket and the log.
	Dir string

	bin  string
	cred *syscall.Credential
}

// Start initialises and starts a cluster in a new temporary directory. The
// caller stops it with [Cluster.Stop].
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gpdoc-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = nonRoot(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--no-locale", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w: %s", err, tail(out))
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
		port, dir)
	if out, err := c.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "60",
		"-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %w: %s %s", err, tail(out), tail(log))
	}
	c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return c, nil
}

// Stop stops the cluster at once and removes its directory.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.Dir)
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %w: %s", err, tail(out))
	}
	return nil
}

// run runs one of the cluster's programs, as the non-root user if needed.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

// binDir finds PostgreSQL's server programs: the newest
// /usr/lib/postgresql/*/bin with initdb, or initdb on $PATH.
func binDir() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(found, func(a, b string) int { return version(b) - version(a) })
	if len(found) > 0 {
		return filepath.Dir(found[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no initdb in /usr/lib/postgresql/*/bin or on $PATH (install Debian's postgresql package)")
}

func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// nonRoot picks the user a root test process runs the cluster as.
func nonRoot() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 == nil && err2 == nil && uid != 0 {
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	return nil, fmt.Errorf("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 600 {
		s = "..." + s[len(s)-600:]
	}
	return s
}
