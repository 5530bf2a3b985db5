export * from './sandbox';
export * from './server';
export * from './stand-in';
export * from './support';
