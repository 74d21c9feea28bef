// Package hygiene holds the tests that keep the repository's shape: the
// direction of imports between Aloha's packages (DESIGN §2) and a package
// comment on every package. It has no code of its own.
package hygiene
