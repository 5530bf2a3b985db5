export * from './server';
export * from './stand-in';
