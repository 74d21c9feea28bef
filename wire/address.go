package wire

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Scheme is the URL scheme of Aloha addresses.
const Scheme = "aloha://"

// Address names an endpoint: the listen address of the node that hosts it
// and the endpoint's name. Its text form is aloha://host:port/name.
type Address struct {
	Host string // host:port the node listens on
	Name string // endpoint name
}

func (a Address) String() string {
	if a.Name == "" {
		return Scheme + a.Host
	}
	return Scheme + a.Host + "/" + a.Name
}

// ParseAddress parses aloha://host:port[/name]. The scheme may be omitted.
func ParseAddress(s string) (Address, error) {
	rest := strings.TrimPrefix(strings.TrimSpace(s), Scheme)
	if strings.Contains(rest, "://") {
		return Address{}, fmt.Errorf("address %q: scheme must be aloha://", s)
	}
	hostPort, name, _ := strings.Cut(rest, "/")
	if err := checkHostPort(hostPort); err != nil {
		return Address{}, fmt.Errorf("address %q: %w", s, err)
	}
	if strings.Contains(name, "/") {
		return Address{}, fmt.Errorf("address %q: endpoint name must not contain '/'", s)
	}
	return Address{Host: hostPort, Name: name}, nil
}

// ParseAddressList parses a comma-separated list of addresses, as given for
// several masters: aloha://h1:7077,h2:7077 or aloha://h1:7077,aloha://h2:7077.
func ParseAddressList(s string) ([]Address, error) {
	var out []Address
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		a, err := ParseAddress(part)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("address list %q is empty", s)
	}
	return out, nil
}

func checkHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if host == "" {
		return fmt.Errorf("missing host")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}
