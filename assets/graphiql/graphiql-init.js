// Bootstraps the vendored GraphiQL IDE served at GET /graphql.
// Kept in a separate file (no inline script or handlers) so the page works under a
// Content-Security-Policy of `script-src 'self'`. Page styling is set through the
// CSSOM (element.style), which CSP does not restrict, so no inline <style> is needed.
(function () {
  'use strict';

  var root = document.getElementById('graphiql');
  if (!root || typeof React === 'undefined' || typeof ReactDOM === 'undefined' ||
      typeof GraphiQL === 'undefined') {
    if (root) {
      root.textContent = 'GraphiQL failed to load. The API still works: POST /graphql ' +
        'with a JSON body {"query": "..."}, or GET /graphql?query=...';
    }
    return;
  }

  // Full-height layout.
  document.documentElement.style.height = '100%';
  document.body.style.height = '100%';
  document.body.style.margin = '0';
  document.body.style.overflow = 'hidden';
  root.style.height = '100vh';

  var defaultQuery = [
    '# sanctuary-data: aggregate statistics, timelines and documents of municipal ID programs.',
    '# No individual records. Press the play button (or Ctrl-Enter) to run.',
    '{',
    '  program(slug: "citykey") {',
    '    name',
    '    events(first: 5) { edges { node { date kind title } } }',
    '  }',
    '}',
    ''
  ].join('\n');

  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: false,
      shouldPersistHeaders: false
    })
  );
})();
