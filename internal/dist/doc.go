// Package dist holds the tests of the distribution: the tarball layout and
// the launch script.
package dist
