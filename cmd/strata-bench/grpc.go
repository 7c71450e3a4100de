package main

import (
	"context"
	"encoding/binary"
	"math"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"
)

// grpcBatchSender builds the batches as gRPC BatchObjects requests, the
// way the Python and TypeScript clients send imports (vectors as float32
// little-endian bytes); send(i) sends batch i and returns how many of its
// objects failed.
func grpcBatchSender(addr, apiKey, class string, batches [][]benchObject) (*grpc.ClientConn, func(int) (int, error), error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(1<<30), grpc.MaxCallRecvMsgSize(1<<30)))
	if err != nil {
		return nil, nil, err
	}
	reqs := make([]*pb.BatchObjectsRequest, len(batches))
	for i, objs := range batches {
		req := &pb.BatchObjectsRequest{Objects: make([]*pb.BatchObject, len(objs))}
		for j, o := range objs {
			vb := make([]byte, 4*len(o.vector))
			for k, f := range o.vector {
				binary.LittleEndian.PutUint32(vb[4*k:], math.Float32bits(f))
			}
			props, err := structpb.NewStruct(map[string]any{"title": o.title, "count": o.count})
			if err != nil {
				conn.Close()
				return nil, nil, err
			}
			req.Objects[j] = &pb.BatchObject{Uuid: o.id.String(), Collection: class, VectorBytes: vb,
				Properties: &pb.BatchObject_Properties{NonRefProperties: props}}
		}
		reqs[i] = req
	}
	client := pb.NewWeaviateClient(conn)
	ctx := context.Background()
	if apiKey != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+apiKey)
	}
	return conn, func(i int) (int, error) {
		reply, err := client.BatchObjects(ctx, reqs[i])
		if err != nil {
			return 0, err
		}
		return len(reply.Errors), nil
	}, nil
}
