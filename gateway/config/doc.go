// Package config defines wampgate's configuration: the Config struct, its
// defaults (Default), and Load, which reads a YAML file and reports every
// problem in it at once.
//
// Load never stops at the first mistake. It returns an *Errors listing each
// problem as "FILE:LINE: key.path: what is wrong", in file order: YAML syntax
// errors, unknown keys (with a "did you mean" hint), wrong types, bad
// durations, sizes, addresses and URIs, duplicate names, and references to
// roles, realms or secrets that do not exist. Nothing is silently ignored.
//
// Durations are strings with a unit ("30s", "1m30s"); a plain number other
// than 0 is an error, which avoids the classic "30 means 30ns" mistake. Sizes
// are ByteSize: a plain integer is bytes, and the units are IEC (KiB, MiB,
// GiB: powers of 1024) or SI (KB, MB, GB: powers of 1000), exactly as
// written. Single-letter units such as "64K" are rejected as ambiguous.
//
// Relative paths in the file (TLS files, secret files, the Unix socket path)
// are resolved against the directory that holds the config file, so a
// config in /etc/wampgate can name "server.crt". Secrets can be given inline,
// or read from a file (ticket_file, secret_file) or an environment variable
// (ticket_env, secret_env) so that the config itself can be world-readable.
//
// YAML anchors, aliases and merge keys (<<) work. To stay cheap on hostile
// input, Load reads at most 4MiB, visits at most 100000 values (counting
// every expansion of an alias) and reports at most 500 problems.
//
// The annotated example examples/wampgate.yaml in the repository is the one
// place where every key, its default and its meaning are documented; its
// test checks that it loads and that it agrees with Default.
//
// The package imports no other wampgate package: cmd/wampgate converts a
// Config into router, transport and device settings.
package config
