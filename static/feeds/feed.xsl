<?xml version="1.0" encoding="utf-8"?>
<!-- Shows an RSS 2.0 or Atom 1.0 feed as a readable page when a person opens
     it in a browser; feed readers ignore it. Text only: summaries are shown
     as text, never as markup. -->
<xsl:stylesheet version="1.0"
  xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom"
  exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat" indent="yes"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="home" select="rss/channel/link | atom:feed/atom:link[@rel='alternate']/@href"/>
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>
          body { font: 1.05rem/1.6 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; background: #fdfcf8; }
          .about { background: #f3f1ea; padding: 0.75rem 1rem; border-radius: 4px; }
          h1 { font-family: Georgia, serif; }
          li { margin: 1rem 0; }
          .when { color: #4a4a4a; font-size: 0.9rem; }
          a { color: #0b4f8a; }
        </style>
      </head>
      <body>
        <main>
          <p class="about">This is a web feed. Copy its address into a feed reader
            (NetNewsWire, Feedly, Inoreader, newsboat, Thunderbird…) to follow
            <strong><xsl:value-of select="$title"/></strong>.</p>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/></p>
          <p><a href="{$home}">Read it on the site</a></p>
          <ol>
            <xsl:for-each select="rss/channel/item | atom:feed/atom:entry">
              <li>
                <a href="{link | atom:link[@rel='alternate']/@href}">
                  <!-- RSS titles are escaped twice by Dateline (readers treat them
                       as HTML), so one level of unescaping still leaves text. -->
                  <xsl:value-of select="title" disable-output-escaping="yes"/>
                  <xsl:value-of select="atom:title"/>
                </a>
                <div class="when"><xsl:value-of select="pubDate | atom:published"/></div>
                <div>
                  <xsl:value-of select="description" disable-output-escaping="yes"/>
                  <xsl:value-of select="atom:summary"/>
                </div>
              </li>
            </xsl:for-each>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
