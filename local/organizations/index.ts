export * from './stand-in';
