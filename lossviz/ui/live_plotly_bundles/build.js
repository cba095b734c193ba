// Builds the plotly.js bundles lossviz's live charts load (lossviz/ui/live_plotly_frontend/index.html),
// from the plotly.js release the plotly Python package bundles (plotly_js_version in the test below):
//
//     cd lossviz/ui/live_plotly_bundles && npm ci && node build.js
//
// Why not the release's partial bundles (plotly-cartesian, plotly-gl3d)? Every chart is a frame of its own
// that evaluates its bundle on the page's one main thread, and the release wraps its 1.5 MB in a UMD
// factory that V8 compiles lazily: it pre-parses everything, then parses again the functions it calls. In
// headless Chromium on the 2-core benchmark machine the cartesian bundle took 0.62-0.70 s to evaluate and
// the gl3d one 0.68-0.79 s plus 0.4-0.55 s of compiling on its first 3-D draw. The same sources bundled by
// esbuild as an IIFE (compiled eagerly, once) with only the traces the app draws take 0.19-0.32 s and
// 0.51-0.60 s, and the first 3-D draw 0.1 s (docs/BENCHMARKS.md). Drawing is the release's own code.
//
// The trace lists are the app's: index.html's TRACES lists the same names, and a figure with any other
// trace type loads the plotly package's full bundle (tests/test_live_plotly.py checks all three agree).
"use strict";
const path = require("path");
const esbuild = require("esbuild");
const version = require("plotly.js/package.json").version;

const BUNDLES = {
  "2d": ["bar", "contour", "heatmap"],
  "3d": ["scatter3d", "surface"],
};

for (const [kind, traces] of Object.entries(BUNDLES)) {
  // scatter is part of plotly.js's core: every bundle draws it. The calendars component goes in as in the
  // release's partial bundles: without it a 3-D view with a log axis draws its surface flat (the Neural
  // net page's log-loss view; tests/e2e/test_live_chart.py compares every default figure's pixels).
  const modules = [...traces, "calendars"];
  const entry = ["var Plotly = require('plotly.js/lib/core');",
                 `Plotly.register([${modules.map((m) => `require('plotly.js/lib/${m}')`).join(", ")}]);`,
                 "module.exports = Plotly;"].join("\n");
  const outfile = path.join(__dirname, "..", "live_plotly_frontend", `plotly-${kind}.min.js`);
  esbuild.buildSync({
    stdin: {contents: entry, resolveDir: __dirname, sourcefile: `plotly-${kind}.js`},
    outfile,
    // As plotly.js's own build (its esbuild-config.js): a global Plotly, its aliases and definitions.
    format: "iife",
    globalName: "Plotly",
    bundle: true,
    minify: true,
    target: "es2016",
    alias: {regl: "@plotly/regl", stream: "stream-browserify"},
    define: {global: "window", "define.amd": "false", "process.env.NODE_DEBUG": "false"},
    // Only the map traces import a style sheet (maplibre's), and no bundle here registers one.
    loader: {".css": "empty"},
    banner: {js: [
      "/**",
      `* plotly.js (lossviz ${kind}: scatter, ${traces.join(", ")} - minified) v${version}`,
      "* Copyright 2012-2026, Plotly, Inc.",
      "* All rights reserved.",
      "* Licensed under the MIT license",
      "* Built by lossviz/ui/live_plotly_bundles/build.js with esbuild from the plotly.js package.",
      "*/"].join("\n")},
    logLevel: "warning",
  });
  console.log(outfile);
}
