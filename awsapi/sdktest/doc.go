// Package sdktest drives wmpolicy's WorkMail API (package awsapi) with the
// AWS SDK for Go v2 (github.com/aws/aws-sdk-go-v2/service/workmail) over
// loopback: a real client that no one here wrote. It is its own module, so
// that the library's dependencies stay lean; run its tests with
//
//	cd awsapi/sdktest && go test ./...
package sdktest
