package sdktest

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/workmail"
	"github.com/wmpolicy/wmpolicy/awsapi"
	"github.com/wmpolicy/wmpolicy/org"
)

// Point the AWS SDK for Go v2 at wmpolicy: BaseEndpoint is the handler's
// address, the credentials a key of its credentials file.
func Example() {
	store, _ := org.Open(org.Options{})
	defer store.Close()
	creds, _ := awsapi.ParseCredentials([]byte(`{"Keys":[{"AccessKeyId":"WMPEXAMPLEKEY0000001","SecretAccessKey":"example-secret-0123456789"}]}`))
	h, _ := awsapi.NewHandler(awsapi.Options{Store: store, Credentials: creds})
	srv := httptest.NewServer(h)
	defer srv.Close()

	client := workmail.New(workmail.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("WMPEXAMPLEKEY0000001", "example-secret-0123456789", ""),
	})
	ctx := context.Background()
	created, err := client.CreateOrganization(ctx, &workmail.CreateOrganizationInput{Alias: aws.String("example")})
	if err != nil {
		panic(err)
	}
	out, err := client.DescribeOrganization(ctx, &workmail.DescribeOrganizationInput{OrganizationId: created.OrganizationId})
	if err != nil {
		panic(err)
	}
	fmt.Println(*out.Alias, *out.State, *out.DefaultMailDomain)
	// Output:
	// example Active example.awsapps.com
}
