// Package config owns Aloha's configuration keys: their names, defaults,
// types and rules, where values come from, and the errors and warnings an
// operator sees about them. The daemons read a *Conf through typed getters
// and never parse configuration text themselves.
//
// # Usage
//
//	conf, warnings, err := config.Load(config.LoadOptions{
//		PropertiesFile: propertiesFileFlag, // may be empty
//		Overrides:      dFlags,             // "aloha.worker.timeout=30s"
//		Getenv:         os.Getenv,
//	})
//	for _, w := range warnings {
//		logger.Warn(w.String())
//	}
//	if err != nil {
//		return err // lists every bad value, each with key, value and source
//	}
//	if cli.Port != 0 {
//		err = errors.Join(err, conf.Set(config.MasterPort, strconv.Itoa(cli.Port), "flag --port"))
//	}
//	if err = errors.Join(err, conf.Validate()); err != nil {
//		return err
//	}
//	timeout := conf.Duration(config.WorkerTimeout)
//
// # Precedence
//
// From lowest to highest, each source overriding the ones before it:
//
//  1. built-in defaults (the table in keys.go);
//  2. the properties file: --properties-file if given (it must exist),
//     else $ALOHA_CONF_DIR/aloha-default.conf if ALOHA_CONF_DIR is set,
//     else $ALOHA_HOME/conf/aloha-default.conf; a default file that does
//     not exist is skipped;
//  3. environment variables: ALOHA_MASTER_HOST, ALOHA_MASTER_PORT,
//     ALOHA_MASTER_REST_PORT, ALOHA_WORKER_HOST, ALOHA_WORKER_PORT,
//     ALOHA_WORKER_CORES, ALOHA_WORKER_MEMORY, ALOHA_WORKER_DIR and
//     ALOHA_SECRET (empty counts as unset);
//  4. -Dkey=value overrides on the command line;
//  5. explicit command-line flags, which the caller applies with Set after
//     Load.
//
// Every value remembers its source ("default", "file PATH:LINE",
// "env NAME", "-D", "flag --port"); errors name it. Values of secret keys
// (aloha.authenticate.secret) are shown as "***" in errors and dumps.
//
// # Properties file syntax
//
// As Java's Properties.load, used by Spark and the original Aloha:
//
//	# a comment; so is a line starting with !
//	aloha.master.port=7077
//	aloha.master.host: 10.0.0.5
//	aloha.worker.cores   4
//	aloha.extraListeners = log, \
//	                       webhook
//
// A line holds key=value, key: value or key value. Whitespace around key
// and value is dropped. A line ending in an odd number of backslashes
// continues on the next one, whose leading whitespace is dropped. Escapes
// \t \n \r \f \uXXXX are understood, and a backslash before any other
// character stands for that character: \= \: \# \\ and a backslash before
// a space put those in a key. A line without a key, such as "=x", is an
// error naming file:line. A key given twice: the later wins, with a
// warning.
//
// Unknown aloha.* keys and keys outside aloha.* are ignored with a warning
// (with a "did you mean" when a known key is close). Values that do not
// parse or break a rule refuse to start the daemon.
//
// # Adding a key
//
// Add a constant for its name and an entry to the table in keys.go (type,
// default, one-line description, environment variable if any, rule), then
// regenerate conf/aloha-default.conf.template with
//
//	go test ./daemon/config -run TestTemplate -update
//
// TestTemplate fails until the template matches the table. Rules between
// several keys go in Conf.Validate.
package config
