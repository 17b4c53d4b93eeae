// The Pulumi analyzer loads a policy pack with require() and awaits what it exports. The pack is TypeScript
// ES modules like the rest of the repository, so register tsx's ESM loader and import the entry point.
module.exports = import("tsx/esm/api").then(({ register }) => {
  register();
  return import("./index.ts");
});
