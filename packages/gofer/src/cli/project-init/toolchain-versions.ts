/**
 * The versions of the build tools a new project pins: the ones this repository builds with, so an npm cache
 * filled by installing Gofer serves them and `npm install --prefer-offline` needs no registry. A test keeps them
 * equal to the root package.json's.
 */
export const TOOLCHAIN_VERSIONS = {
  esbuild: "0.28.2",
  typescript: "7.0.2",
  "@types/node": "24.19.4",
} as const;
