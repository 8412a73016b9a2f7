/**
 * Building the page with plain DOM calls: `h('a', { href: '#/' }, 'Home')`. Attributes are set as
 * attributes, `on<event>` as listeners, and `value`, `checked` and `selected` as properties;
 * children are nodes, strings, numbers, arrays, or null and false (left out).
 */

const svgNamespace = 'http://www.w3.org/2000/svg'
const properties = new Set(['value', 'checked', 'selected', 'disabled', 'indeterminate'])

/** An HTML element. */
export function h(tag, props, ...children) {
  return fill(document.createElement(tag), props, children)
}

/** An SVG element. */
export function s(tag, props, ...children) {
  return fill(document.createElementNS(svgNamespace, tag), props, children)
}

function fill(element, props, children) {
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value)
    } else if (properties.has(name)) {
      element[name] = value
    } else {
      element.setAttribute(name, value === true ? '' : String(value))
    }
  }
  append(element, children)
  return element
}

/** Appends children, flattening arrays and leaving out null, undefined and false. */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue
    parent.append(child instanceof Node ? child : String(child))
  }
  return parent
}

/** Replaces every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren()
  return append(parent, children)
}

/** A unique id for labels and descriptions. */
let counter = 0
export function uid(prefix = 'f') {
  counter += 1
  return `${prefix}-${counter}`
}
