/* Deployment configuration. Deployments overwrite this file.
   apiBase: base URL of the HTTP API, without a trailing slash
   (a path such as "/api" on the same origin, or an absolute https:// URL). */
window.APP_CONFIG = { apiBase: "/api" };
