/**
 * Replaced by the commit at bundle time in the single binary (scripts/build-binary.sh, an esbuild `define`);
 * never declared when Gofer runs from its sources, where `typeof` reads it as undefined.
 */
declare const __GOFER_BUILD_COMMIT__: string | undefined;

/**
 * The build's version, served by `/api/system/metadata`. The binary carries the commit it was built from; from
 * sources, a deployment may name it with GOFER_BUILD_COMMIT.
 */
export const VERSION = {
  semver: "0.1.0",
  commit:
    typeof __GOFER_BUILD_COMMIT__ === "string"
      ? __GOFER_BUILD_COMMIT__
      : (process.env.GOFER_BUILD_COMMIT ?? "development"),
};
