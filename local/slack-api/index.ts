export * from './block-kit';
export * from './limits';
export * from './server';
export * from './stand-in';
