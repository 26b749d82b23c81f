// Package a folder of pre-rendered HTML with simple-scorm-packager, for bench/run.py.
// Usage: node pack.js SOURCE_DIR OUT_DIR VERSION   (VERSION: "1.2" or "2004 4th Edition")
// Prints the milliseconds the packager took, from its start to its zip being closed.
"use strict";
const path = require("path");
const packager = require("simple-scorm-packager");

const [source, outDir, version] = process.argv.slice(2);
const started = process.hrtime.bigint();
const quiet = console.log;
console.log = () => {}; // the packager logs every file it writes
packager(
  {
    version: version || "1.2",
    organization: "scorm-builder benchmark",
    title: "Generated course",
    language: "en",
    identifier: "generated",
    masteryScore: 80,
    startingPage: "index.html",
    source: path.resolve(source),
    package: {
      version: "1.0.0",
      zip: true,
      outputFolder: path.resolve(outDir),
      name: "generated",
      date: "2026-01-01",
      size: 1,
    },
  },
  () => {
    console.log = quiet;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(ms.toFixed(1));
  },
);
