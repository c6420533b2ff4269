"""The test harness: ``template.yaml`` read as CloudFormation does, the stack built from it on moto,
its functions invoked in process with real events (API Gateway, S3, SQS, the schedule), their AWS
calls recorded and checked against their policies, and the moto patches the tests rely on."""
