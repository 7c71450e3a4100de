package e2e

import (
	"testing"

	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
)

// TestNilUUIDThroughEveryWritePath: the nil UUID is stored as given by
// REST create, REST batch and gRPC BatchObjects, so reads, cursors and
// deletes find it; only an absent id is generated.
func TestNilUUIDThroughEveryWritePath(t *testing.T) {
	s := startServer(t, serverOptions{})
	const nilID = "00000000-0000-0000-0000-000000000000"
	c, _ := s.grpcClient(t, "")

	wantStatus(t, s.do(t, "POST", "/v1/objects", map[string]any{"class": "Rest", "id": nilID, "properties": map[string]any{"n": 1}}), 200)
	wantStatus(t, s.do(t, "POST", "/v1/batch/objects", map[string]any{"objects": []any{map[string]any{"class": "Batch", "id": nilID}}}), 200)
	wantStatus(t, s.do(t, "POST", "/v1/schema", map[string]any{"class": "Grpc", "vectorizer": "none"}), 200)
	reply, err := c.BatchObjects(ctxT(t), &pb.BatchObjectsRequest{Objects: []*pb.BatchObject{{Uuid: nilID, Collection: "Grpc"}}})
	if err != nil || len(reply.Errors) > 0 {
		t.Fatalf("gRPC BatchObjects: %v %v", reply, err)
	}
	for _, class := range []string{"Rest", "Batch", "Grpc"} {
		var got struct {
			ID string `json:"id"`
		}
		r := s.do(t, "GET", "/v1/objects/"+class+"/"+nilID, nil)
		wantStatus(t, r, 200)
		r.JSON(t, &got)
		if got.ID != nilID {
			t.Fatalf("%s: GET answered id %q", class, got.ID)
		}
		var list struct {
			Objects []struct {
				ID string `json:"id"`
			} `json:"objects"`
		}
		s.do(t, "GET", "/v1/objects?class="+class, nil).JSON(t, &list)
		if len(list.Objects) != 1 || list.Objects[0].ID != nilID {
			t.Fatalf("%s: list answered %+v", class, list.Objects)
		}
		wantStatus(t, s.do(t, "DELETE", "/v1/objects/"+class+"/"+nilID, nil), 204)
		wantStatus(t, s.do(t, "GET", "/v1/objects/"+class+"/"+nilID, nil), 404)
	}
}
