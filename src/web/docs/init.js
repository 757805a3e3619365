// The docs page's one script: swagger-ui renders /openapi.json into
// #swagger-ui. The bundle (a classic deferred script) has run before this
// module, which is deferred too and comes after it in the page.
//
// Nothing leaves this origin: validatorUrl null drops the badge that asks
// validator.swagger.io about the document, and queryConfigEnabled false
// keeps ?url= from pointing the page at another one. "Try it out" sends its
// requests to the document's servers (contrib/dev run's own address).

const root = document.getElementById('swagger-ui');

if (typeof window.SwaggerUIBundle !== 'function') {
	const p = document.createElement('p');
	p.setAttribute('role', 'alert');
	p.textContent = 'swagger-ui did not load (/docs/vendor/swagger-ui-bundle.js). ' +
		'The OpenAPI document is at /openapi.json.';
	const a = document.createElement('a');
	a.href = '/openapi.json';
	a.textContent = 'Open /openapi.json';
	root.replaceChildren(p, a);
} else {
	window.SwaggerUIBundle({
		url: '/openapi.json',
		dom_id: '#swagger-ui',
		validatorUrl: null,
		queryConfigEnabled: false,
		deepLinking: true,
		docExpansion: 'list',
	});
}
