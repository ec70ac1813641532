// Command outside is a program in a module of its own that uses the SDK as
// the README says: it adds a client key with a conditional edit. The test
// TestOutsideModule builds it against this checkout and runs it; its
// -race flag makes a concurrent writer get in first, so the edit gets 412
// and has to recompute from the fresh list.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
)

func main() {
	race := flag.Bool("race", false, "write concurrently during the first round")
	flag.Parse()
	ctx := context.Background()
	c, err := mgmtclient.NewClientWithResponses(os.Getenv("CPA_URL"), mgmtclient.WithManagementKey(os.Getenv("CPA_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	keys := mgmtclient.Editor[[]string]{
		Read: func(ctx context.Context) ([]string, string, error) {
			resp, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
			if err != nil {
				return nil, "", err
			}
			return resp.JSON200.APIKeys, mgmtclient.ETag(resp), nil
		},
		Write: func(ctx context.Context, next []string, ifMatch string) error {
			_, err := mgmtclient.Check(c.PutAPIKeysWithResponse(ctx, &mgmtclient.PutAPIKeysParams{IfMatch: &ifMatch}, next))
			return err
		},
	}
	rounds := 0
	err = mgmtclient.Edit(ctx, keys, func(current []string) ([]string, error) {
		rounds++
		if *race && rounds == 1 {
			// Someone else writes between our read and our write.
			if _, err := mgmtclient.Check(c.PutAPIKeysWithResponse(ctx, nil, append(slices.Clone(current), "other-key"))); err != nil {
				return nil, err
			}
		}
		if slices.Contains(current, "outside-key") {
			return current, nil
		}
		return append(current, "outside-key"), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rounds, resp.JSON200.APIKeys)
}
