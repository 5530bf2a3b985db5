// The SDK's default credential chain, as a Lambda needs it: the Lambda runtime puts the execution
// role's credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
// which is the chain's first link. Its other links (SSO, ini files, web identity, process, IMDS)
// never answer in Lambda but bring STS and SSO-OIDC clients into every bundle (~90 KB).
const { fromEnv } = require('@aws-sdk/credential-provider-env');

exports.defaultProvider = (init) => fromEnv(init);
