/** The state store on DynamoDB: functions/adapters/dynamodb/ (items, codecs, byte budgets). */
export {
  DynamoDbPartitionStore,
  DynamoDbPartitionStore as DynamoDbWindowStore,
  type DynamoDbPartitionStoreOptions,
} from './dynamodb/partition-store.ts';
