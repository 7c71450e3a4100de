package dataport

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"strata/internal/cluster"
	"strata/internal/db"
	"strata/internal/filter"
	"strata/internal/shard"
)

// DefaultTimeout bounds a call whose context has no sooner deadline.
const DefaultTimeout = 2 * time.Minute

// Client reaches other nodes' shards (db.Remote).
type Client struct {
	// Resolve finds a node's data port address (from membership).
	Resolve func(node string) (string, bool)
	HTTP    *http.Client // nil: NewTransport's
	Auth    cluster.BasicAuth
	Timeout time.Duration // 0: DefaultTimeout
}

// NewHTTPClient is an HTTP client for node-to-node traffic: connections
// kept for reuse, a bounded dial, and no overall timeout (each call's
// context has its deadline).
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// Shard returns the operations on a shard of another node.
func (c *Client) Shard(node, class, shardName string) db.ShardOps {
	return remoteShard{c: c, node: node, class: class, shard: shardName}
}

// call sends one operation to node and decodes its answer; the answer's
// own error is returned as the error.
func (c *Client) call(ctx context.Context, node, op string, req *request) (*response, error) {
	var resp response
	if err := c.post(ctx, node, pathPrefix+op, req, &resp); err != nil {
		return nil, fmt.Errorf("node %s: %s of shard %s/%s: %w", node, op, req.Class, req.Shard, err)
	}
	if resp.Err != nil {
		return nil, resp.Err.err(node)
	}
	return &resp, nil
}

// NodeShards lists node's shards of class ("" = all).
func (c *Client) NodeShards(ctx context.Context, node, class string) ([]db.ShardInfo, error) {
	var resp shardsResponse
	if err := c.post(ctx, node, nodeShardsPath, shardsRequest{Class: class}, &resp); err != nil {
		return nil, fmt.Errorf("node %s: shards: %w", node, err)
	}
	if resp.Err != nil {
		return nil, resp.Err.err(node)
	}
	return resp.Shards, nil
}

// post sends req to path on node within the call's deadline and decodes
// the answer into resp.
func (c *Client) post(ctx context.Context, node, path string, req, resp any) error {
	addr, ok := c.Resolve(node)
	if !ok {
		return fmt.Errorf("node %s is not a known member of the cluster", node)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(req); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, &body)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	hr.Header.Set(timeoutHeader, strconv.FormatInt(max(time.Until(deadline).Milliseconds(), 1), 10))
	hr.Header.Set("Content-Type", "application/x-gob")
	c.Auth.Set(hr)
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	res, err := hc.Do(hr)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(msg))
	}
	if err := gob.NewDecoder(res.Body).Decode(resp); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	return nil
}

var defaultHTTP = NewHTTPClient()

// remoteShard is a shard of another node.
type remoteShard struct {
	c                  *Client
	node, class, shard string
}

func (r remoteShard) req() *request { return &request{Class: r.class, Shard: r.shard} }

func (r remoteShard) Insert(ctx context.Context, o *shard.Object) error {
	q := r.req()
	q.Objects = []*shard.Object{o}
	_, err := r.c.call(ctx, r.node, opInsert, q)
	return err
}

func (r remoteShard) Put(ctx context.Context, objs []*shard.Object) ([]error, error) {
	q := r.req()
	q.Objects = objs
	resp, err := r.c.call(ctx, r.node, opPut, q)
	if err != nil {
		return nil, err
	}
	if len(resp.ObjErrs) != len(objs) {
		return nil, fmt.Errorf("node %s: put of %d objects answered %d results", r.node, len(objs), len(resp.ObjErrs))
	}
	errs := make([]error, len(objs))
	for i, w := range resp.ObjErrs {
		errs[i] = w.err(r.node)
	}
	return errs, nil
}

func (r remoteShard) Get(ctx context.Context, id uuid.UUID, withVectors bool) (*shard.Object, error) {
	q := r.req()
	q.IDs, q.WithVectors = []uuid.UUID{id}, withVectors
	resp, err := r.c.call(ctx, r.node, opGet, q)
	if err != nil {
		return nil, err
	}
	return resp.Object, nil
}

func (r remoteShard) Delete(ctx context.Context, ids []uuid.UUID) error {
	q := r.req()
	q.IDs = ids
	_, err := r.c.call(ctx, r.node, opDelete, q)
	return err
}

func (r remoteShard) Find(ctx context.Context, sq db.ShardQuery) ([]db.ShardHit, error) {
	q := r.req()
	q.Query = sq
	resp, err := r.c.call(ctx, r.node, opFind, q)
	if err != nil {
		return nil, err
	}
	for _, h := range resp.Hits {
		if h.Object == nil {
			return nil, errors.New("node " + r.node + ": a search hit without its object")
		}
	}
	return resp.Hits, nil
}

func (r remoteShard) Count(ctx context.Context, where *filter.Clause) (int64, error) {
	q := r.req()
	q.Where = where
	resp, err := r.c.call(ctx, r.node, opCount, q)
	if err != nil {
		return 0, err
	}
	return resp.Count, nil
}

func (r remoteShard) Match(ctx context.Context, where *filter.Clause, limit int) ([]uuid.UUID, error) {
	q := r.req()
	q.Where, q.Limit = where, limit
	resp, err := r.c.call(ctx, r.node, opMatch, q)
	if err != nil {
		return nil, err
	}
	return resp.IDs, nil
}
