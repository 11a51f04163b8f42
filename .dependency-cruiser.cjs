/** Architecture rules (DESIGN.md): the core never depends on its delivery mechanisms. */
module.exports = {
  forbidden: [
    {
      name: 'shared-is-the-core',
      comment: 'shared/ is the tenant-aware core: it never imports functions/, cli/ or infra/.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|cli|infra)/' },
    },
    {
      name: 'functions-do-not-import-each-other-or-infra',
      comment: 'A Lambda function bundles only its own code and shared/.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^(cli|infra)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
