package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Guards that refuse a destructive plan must see every way a plan takes an
// object down. A resource's ModifyPlan sees three shapes of request:
//
//   - destroy: the plan is null and the prior state is the object;
//   - replacement, whatever caused it (an attribute that requires
//     replacement, `terraform plan -replace`, a tainted object): Terraform
//     plans the new object with a null prior state and hands over the old
//     object's private state (terraform core's plan of a replace re-plans
//     with PriorState null and PriorPrivate = the first plan's private);
//     the framework gives resource-level ModifyPlan an empty RequiresReplace
//     for attribute plan modifiers, so that list cannot tell;
//   - a tainted object: planned like a create (null prior state, no
//     private state); the resource asks whether the object exists;
//   - create or update otherwise.
//
// So every guarded resource records what identifies its object in private
// state (Create, Read, Update) under demolitionKey, and demolition() reads it
// back: a plan with a null prior state but a recorded object is a
// replacement of that object.
const demolitionKey = "object"

// recordObject stores the identity of the object a resource instance manages
// in its private state, for demolition() to find at the next plan.
func recordObject(ctx context.Context, p interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}, obj any) diag.Diagnostics {
	if v := reflect.ValueOf(p); !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return nil // a response without private state (unit tests calling CRUD directly)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		var d diag.Diagnostics
		d.AddError("Private State Not Written", fmt.Sprintf("Encoding the object's identity failed. This is a bug in the provider; please report it: %v", err))
		return d
	}
	return p.SetKey(ctx, demolitionKey, b)
}

// demolitionKind says how a plan takes an object down.
type demolitionKind int

const (
	notDemolished demolitionKind = iota
	demolishedByDestroy
	demolishedByReplace
	// createOrTainted: a null prior state without a recorded object is a new
	// object, or a tainted one: Terraform plans the replacement of a tainted
	// object as a create, with neither its prior state nor its private
	// state. The resource asks the live system whether the object exists.
	createOrTainted
)

func (k demolitionKind) String() string {
	switch k {
	case demolishedByReplace:
		return "replace"
	case createOrTainted:
		return "replace (tainted)"
	}
	return "destroy"
}

// demolition reports whether this plan destroys or replaces the object, and
// which one. fromState builds the identity from the prior state (destroy);
// for a replacement it comes from private state into obj.
func demolition[T any](ctx context.Context, req resource.ModifyPlanRequest, fromState func(*T) diag.Diagnostics) (T, demolitionKind, diag.Diagnostics) {
	var obj T
	var diags diag.Diagnostics
	switch {
	case req.Plan.Raw.IsNull() && !req.State.Raw.IsNull():
		diags.Append(fromState(&obj)...)
		return obj, demolishedByDestroy, diags
	case req.State.Raw.IsNull() && !req.Plan.Raw.IsNull():
		if req.Private == nil {
			return obj, createOrTainted, diags
		}
		b, d := req.Private.GetKey(ctx, demolitionKey)
		diags.Append(d...)
		if diags.HasError() {
			return obj, notDemolished, diags
		}
		if len(b) == 0 {
			return obj, createOrTainted, diags
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			diags.AddError("Private State Not Read", fmt.Sprintf("Decoding the replaced object's identity failed. This is a bug in the provider; please report it: %v", err))
			return obj, notDemolished, diags
		}
		return obj, demolishedByReplace, diags
	}
	return obj, notDemolished, diags
}

// plannedDestroys remembers, for one provider process (one Terraform graph
// walk), the objects whose destruction has been planned, so a guard on an
// object can accept a destroy when the objects that depend on it are planned
// to go first in the same plan. Terraform plans destroys in destroy order
// (dependents first), so a dependent's record is there when its dependency's
// guard asks. A guard that finds no record refuses: a missed record costs a
// refusal, never a broken bastion.
type plannedDestroys struct {
	mu   sync.Mutex
	keys map[string]bool
}

func destroyKey(kind, name string) string { return kind + "|" + strings.ToLower(name) }

func (p *plannedDestroys) add(kind, name string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = map[string]bool{}
	}
	p.keys[destroyKey(kind, name)] = true
}

func (p *plannedDestroys) has(kind, name string) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[destroyKey(kind, name)]
}
