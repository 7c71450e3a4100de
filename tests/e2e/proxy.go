package e2e

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// tcpProxy forwards the connections made to its port to a target port on
// loopback until it is blackholed: from then on it keeps every connection
// (old and new) open but forwards nothing either way, as a network that
// drops packets does, until forward. The test's cleanup closes it.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	unblocked chan struct{} // closed while forwarding
	conns     []net.Conn
	closed    chan struct{}
}

// startProxy listens on port (loopback) and forwards to target.
func startProxy(t testing.TB, port, target int) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &tcpProxy{ln: ln, target: net.JoinHostPort("127.0.0.1", strconv.Itoa(target)),
		unblocked: make(chan struct{}), closed: make(chan struct{})}
	close(p.unblocked)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// blackhole stops forwarding on every connection, open or to come.
func (p *tcpProxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.unblocked:
		p.unblocked = make(chan struct{})
	default:
	}
}

// forward forwards again what was held and what comes.
func (p *tcpProxy) forward() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.unblocked:
	default:
		close(p.unblocked)
	}
}

// close drops every connection and stops listening.
func (p *tcpProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		return
	default:
	}
	close(p.closed)
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		c.Close()
		return false
	default:
		p.conns = append(p.conns, c)
		return true
	}
}

func (p *tcpProxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(in) {
			return
		}
		go func() {
			if !p.wait() {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				return
			}
			if !p.track(out) {
				return
			}
			go p.pipe(out, in)
			p.pipe(in, out)
		}()
	}
}

// wait blocks while the proxy is blackholed; false once it is closed.
func (p *tcpProxy) wait() bool {
	p.mu.Lock()
	unblocked := p.unblocked
	p.mu.Unlock()
	select {
	case <-unblocked:
		return true
	case <-p.closed:
		return false
	}
}

// pipe copies from src to dst, holding every chunk while blackholed.
func (p *tcpProxy) pipe(dst io.WriteCloser, src io.Reader) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
