// The api module functions the CLI relies on, imported in one place.
export { allCrds } from "../api/crd.js";
export { validateAgainst } from "../api/cross.js";
export { formatIssue, type ValidationIssue } from "../api/issues.js";
export { validateResource } from "../api/validate.js";
