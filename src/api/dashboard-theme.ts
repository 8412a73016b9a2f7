import { WhispererError } from '../core/errors.ts'

/** How the dashboard looks inside an application: its name, logo and accent colour. */
export interface DashboardTheme {
  /** Shown in the header and the page title. @default 'Whisperer' */
  brandName?: string
  /**
   * An image shown before the name: a path on the dashboard's origin, or an `https:` URL (its
   * origin is then allowed in the CSP's `img-src`).
   */
  logoUrl?: string
  /** Links, buttons and the current page, as `#rrggbb` (or `#rgb`). @default '#1f5f99' */
  accentColor?: string
  /** The accent in the dark scheme. @default '#4c9be0' */
  accentColorDark?: string
}

const hexColor = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i

/** The relative luminance of a `#rgb` or `#rrggbb` colour (WCAG 2). */
function luminance(color: string): number {
  const hex = color.length === 4 ? [...color.slice(1)].map((c) => c + c).join('') : color.slice(1)
  const [r, g, b] = [0, 2, 4].map((i) => {
    const channel = Number.parseInt(hex.slice(i, i + 2), 16) / 255
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}

/** Black or white, whichever reads better on `color` (the text of an accent-coloured button). */
export function textOn(color: string): '#000000' | '#ffffff' {
  const l = luminance(color)
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#000000'
}

/** A theme whose values are checked: a bad colour or URL is `invalid_options`, never CSS or HTML injected. */
export function checkTheme(theme: DashboardTheme): DashboardTheme {
  const problems: string[] = []
  for (const key of ['accentColor', 'accentColorDark'] as const) {
    const value = theme[key]
    if (value !== undefined && !hexColor.test(value)) problems.push(`${key}: give a colour as #rrggbb`)
  }
  if (theme.brandName !== undefined && (theme.brandName.length < 1 || theme.brandName.length > 100))
    problems.push('brandName: give 1 to 100 characters')
  if (theme.logoUrl !== undefined && logoOrigin(theme.logoUrl) === undefined)
    problems.push('logoUrl: give a path on the dashboard’s origin or an https: URL')
  if (problems.length > 0)
    throw new WhispererError('invalid_options', `Invalid dashboard theme: ${problems.join('; ')}`)
  return theme
}

/**
 * The origin a logo is fetched from: null for a path on the dashboard's own origin, undefined for a
 * URL that is neither such a path nor `https:`.
 */
export function logoOrigin(url: string): string | null | undefined {
  if (/^\/(?!\/)[^\s"'<>\\]*$/.test(url)) return null
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' && !/["'<>\s]/.test(url) ? parsed.origin : undefined
  } catch {
    return undefined
  }
}

/** The theme's stylesheet: its accents as the custom properties the dashboard's style uses. */
export function themeStylesheet(theme: DashboardTheme): string {
  const rules: string[] = ['/* The application’s theme of the dashboard (generated). */']
  if (theme.accentColor) {
    rules.push(
      `:root {\n  --accent: ${theme.accentColor};\n  --accent-text: ${textOn(theme.accentColor)};\n}`,
    )
  }
  if (theme.accentColorDark) {
    rules.push(
      `@media (prefers-color-scheme: dark) {\n  :root {\n    --accent: ${theme.accentColorDark};\n    --accent-text: ${textOn(theme.accentColorDark)};\n  }\n}`,
    )
  }
  return `${rules.join('\n\n')}\n`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The dashboard's page with the theme's brand name and logo, read by the page from `<meta>`. */
export function themedIndex(html: string, theme: DashboardTheme): string {
  const metas = [
    theme.brandName ? `<meta name="whisperer-brand" content="${escapeHtml(theme.brandName)}">` : '',
    theme.logoUrl ? `<meta name="whisperer-logo" content="${escapeHtml(theme.logoUrl)}">` : '',
  ].filter(Boolean)
  let themed = metas.length > 0 ? html.replace('</head>', `  ${metas.join('\n  ')}\n</head>`) : html
  if (theme.brandName) {
    themed = themed
      .replace('<title>Whisperer</title>', `<title>${escapeHtml(theme.brandName)}</title>`)
      .replace(
        '<span class="brand">Whisperer</span>',
        `<span class="brand">${escapeHtml(theme.brandName)}</span>`,
      )
  }
  return themed
}
