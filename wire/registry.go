package wire

import (
	"fmt"
	"reflect"
	"sync"
)

// Registry maps message types to stable numeric codes, the same on every
// node. Code 0 is reserved for a nil body; codes below 16 are reserved for
// wire itself.
type Registry struct {
	mu     sync.RWMutex
	byCode map[uint16]reflect.Type
	byType map[reflect.Type]uint16
}

// FirstUserCode is the lowest code a Registry accepts from callers.
const FirstUserCode = 16

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byCode: map[uint16]reflect.Type{}, byType: map[reflect.Type]uint16{}}
}

// Register binds code to the type of sample, which must be a pointer to a
// struct, e.g. (*Heartbeat)(nil). Values of that struct type and pointers to
// it both encode with the code; receivers get a pointer.
func (r *Registry) Register(code uint16, sample any) error {
	t := reflect.TypeOf(sample)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("wire: register code %d: sample %T is not a pointer to a struct", code, sample)
	}
	if code < FirstUserCode {
		return fmt.Errorf("wire: register %v: code %d is reserved (use %d or more)", t.Elem(), code, FirstUserCode)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.byCode[code]; ok {
		return fmt.Errorf("wire: register %v: code %d already belongs to %v", t.Elem(), code, old)
	}
	if old, ok := r.byType[t.Elem()]; ok {
		return fmt.Errorf("wire: register %v: type already has code %d", t.Elem(), old)
	}
	r.byCode[code] = t.Elem()
	r.byType[t.Elem()] = code
	return nil
}

// MustRegister is Register that panics on error, for package initialisation.
func (r *Registry) MustRegister(code uint16, sample any) {
	if err := r.Register(code, sample); err != nil {
		panic(err)
	}
}

// codeOf returns the code of v's type; nil has code 0.
func (r *Registry) codeOf(v any) (uint16, error) {
	if v == nil {
		return 0, nil
	}
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		if reflect.ValueOf(v).IsNil() {
			return 0, nil
		}
		t = t.Elem()
	}
	r.mu.RLock()
	code, ok := r.byType[t]
	r.mu.RUnlock()
	if !ok {
		return 0, fmt.Errorf("%w: %v", ErrUnknownType, t)
	}
	return code, nil
}

// newValue returns a pointer to a fresh value of the type with code.
func (r *Registry) newValue(code uint16) (any, bool) {
	r.mu.RLock()
	t, ok := r.byCode[code]
	r.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return reflect.New(t).Interface(), true
}

// Codes returns every registered code and its type name, for documentation
// and tests.
func (r *Registry) Codes() map[uint16]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[uint16]string, len(r.byCode))
	for c, t := range r.byCode {
		out[c] = t.String()
	}
	return out
}

// asPointer returns v itself if it is a pointer (or nil), else a pointer to
// a copy of it, so that handlers always see pointers as they do for decoded
// messages.
func asPointer(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		return v
	}
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	return p.Interface()
}
