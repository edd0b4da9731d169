/** The build's version, served by `/api/system/metadata`. The commit is stamped at release time. */
export const VERSION = { semver: "0.1.0", commit: process.env.GOFER_BUILD_COMMIT ?? "development" };
