// Tests use the sandbox's local DynamoDB helpers.
export { createLocalTables, type LocalDynamo, startLocalDynamo } from '../../local/dynamodb/local-dynamo';
