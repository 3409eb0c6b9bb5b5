module github.com/wmpolicy/wmpolicy/awsapi/sdktest

go 1.24

replace github.com/wmpolicy/wmpolicy => ../..

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/credentials v1.21.3
	github.com/aws/aws-sdk-go-v2/service/workmail v1.37.2
	github.com/aws/smithy-go v1.28.9
	github.com/wmpolicy/wmpolicy v0.0.0-00010101000000-000000000000
)

require (
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
)
